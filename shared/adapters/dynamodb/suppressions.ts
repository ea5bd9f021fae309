// Suppressed addresses (keys.suppression, by a hash of the address) and the case flag that says a
// case's address is one (emailSuppressed on the case item).
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DunningCase, EmailSuppression } from '../../domain/case.ts';
import type { Suppressions } from '../../domain/ports.ts';
import { keys } from '../table.ts';
import { claimOnCase, defined, withoutStoreAttrs, type TableIO } from './table-io.ts';

export class DynamoSuppressions implements Suppressions {
  constructor(private readonly table: TableIO) {}

  async suppressEmail(addressKey: string, suppression: EmailSuppression): Promise<void> {
    await this.table.written(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...defined(suppression), ...keys.suppression(addressKey) },
        // The first reason stays: a complaint after a bounce changes nothing that matters.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async getEmailSuppression(addressKey: string): Promise<EmailSuppression | undefined> {
    const item = await this.table.get(keys.suppression(addressKey));
    return item ? withoutStoreAttrs<EmailSuppression>(item) : undefined;
  }

  async liftEmailSuppression(addressKey: string): Promise<EmailSuppression | undefined> {
    const out = await this.table.call(() => this.table.client.send(
      new DeleteCommand({ TableName: this.table.name, Key: keys.suppression(addressKey), ReturnValues: 'ALL_OLD' }),
    ));
    return out.Attributes ? withoutStoreAttrs<EmailSuppression>(out.Attributes) : undefined;
  }

  async clearEmailSuppressed(invoiceId: string, now: string): Promise<boolean> {
    return this.table.updated(keys.case(invoiceId), {
      UpdateExpression: 'REMOVE emailSuppressed SET updatedAt = :at',
      ConditionExpression: 'attribute_exists(emailSuppressed)',
      ExpressionAttributeValues: { ':at': now },
    });
  }

  async flagEmailSuppressed(invoiceId: string, flag: NonNullable<DunningCase['emailSuppressed']>): Promise<boolean> {
    return claimOnCase(this.table, invoiceId, {
      // Any status: a closed case keeps the record of why its emails stopped too.
      UpdateExpression: 'SET emailSuppressed = :flag, updatedAt = :at',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(emailSuppressed)',
      ExpressionAttributeValues: { ':flag': { reason: flag.reason, at: flag.at }, ':at': flag.at },
    });
  }
}
