// The card a case must not charge again, kept on the case item (blockedPaymentMethod).
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CaseNotFoundError } from '../../domain/errors.ts';
import type { CardBlocks } from '../../domain/ports.ts';
import { keys } from '../table.ts';
import { isConditionFailed, type TableIO } from './table-io.ts';

export class DynamoCardBlocks implements CardBlocks {
  constructor(private readonly table: TableIO) {}

  async blockPaymentMethod(invoiceId: string, block: { id: string; code: string; at: string }): Promise<void> {
    try {
      await this.table.call(() => this.table.client.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.case(invoiceId),
          UpdateExpression: 'SET blockedPaymentMethod = :block, updatedAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':block': block, ':at': block.at },
        }),
      ));
    } catch (err) {
      if (isConditionFailed(err)) throw new CaseNotFoundError(invoiceId);
      throw err;
    }
  }

  async unblockPaymentMethod(invoiceId: string, paymentMethodId: string, now: string): Promise<boolean> {
    return this.table.written(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.case(invoiceId),
        UpdateExpression: 'REMOVE blockedPaymentMethod SET updatedAt = :at',
        // Only that card's block: a block put on another card since stays.
        ConditionExpression: 'blockedPaymentMethod.id = :id',
        ExpressionAttributeValues: { ':id': paymentMethodId, ':at': now },
      }),
    );
  }
}
