// Suppressed addresses (keys.suppression, by a hash of the address) and the case flag that says a
// case's address is one (emailSuppressed on the case item).
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DunningCase, EmailSuppression } from '../../domain/case.ts';
import { CaseNotFoundError } from '../../domain/errors.ts';
import type { Suppressions } from '../../domain/ports.ts';
import { keys } from '../table.ts';
import { defined, isConditionFailed, readCase, withoutStoreAttrs, type TableIO } from './table-io.ts';

export class DynamoSuppressions implements Suppressions {
  constructor(private readonly table: TableIO) {}

  async suppressEmail(addressKey: string, suppression: EmailSuppression): Promise<void> {
    try {
      await this.table.call(() => this.table.client.send(
        new PutCommand({
          TableName: this.table.name,
          Item: { ...defined(suppression), ...keys.suppression(addressKey) },
          // The first reason stays: a complaint after a bounce changes nothing that matters.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ));
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  async getEmailSuppression(addressKey: string): Promise<EmailSuppression | undefined> {
    const out = await this.table.call(() => this.table.client.send(
      new GetCommand({ TableName: this.table.name, Key: keys.suppression(addressKey), ConsistentRead: true }),
    ));
    return out.Item ? withoutStoreAttrs<EmailSuppression>(out.Item) : undefined;
  }

  async liftEmailSuppression(addressKey: string): Promise<EmailSuppression | undefined> {
    const out = await this.table.call(() => this.table.client.send(
      new DeleteCommand({ TableName: this.table.name, Key: keys.suppression(addressKey), ReturnValues: 'ALL_OLD' }),
    ));
    return out.Attributes ? withoutStoreAttrs<EmailSuppression>(out.Attributes) : undefined;
  }

  async clearEmailSuppressed(invoiceId: string, now: string): Promise<boolean> {
    return this.table.written(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.case(invoiceId),
        UpdateExpression: 'REMOVE emailSuppressed SET updatedAt = :at',
        ConditionExpression: 'attribute_exists(emailSuppressed)',
        ExpressionAttributeValues: { ':at': now },
      }),
    );
  }

  async flagEmailSuppressed(invoiceId: string, flag: NonNullable<DunningCase['emailSuppressed']>): Promise<boolean> {
    const written = await this.table.written(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.case(invoiceId),
        // Any status: a closed case keeps the record of why its emails stopped too.
        UpdateExpression: 'SET emailSuppressed = :flag, updatedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(emailSuppressed)',
        ExpressionAttributeValues: { ':flag': { reason: flag.reason, at: flag.at }, ':at': flag.at },
      }),
    );
    if (written) return true;
    if (!(await readCase(this.table, invoiceId))) throw new CaseNotFoundError(invoiceId);
    return false;
  }
}
