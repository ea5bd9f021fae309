// The card a case must not charge again, kept on the case item (blockedPaymentMethod).
import type { CardBlocks } from '../../domain/ports.ts';
import { keys } from '../table.ts';
import { updateExistingCase, type TableIO } from './table-io.ts';

export class DynamoCardBlocks implements CardBlocks {
  constructor(private readonly table: TableIO) {}

  async blockPaymentMethod(invoiceId: string, block: { id: string; code: string; at: string }): Promise<void> {
    await updateExistingCase(this.table, invoiceId, {
      UpdateExpression: 'SET blockedPaymentMethod = :block, updatedAt = :at',
      ExpressionAttributeValues: { ':block': block, ':at': block.at },
    });
  }

  async unblockPaymentMethod(invoiceId: string, paymentMethodId: string, now: string): Promise<boolean> {
    return this.table.updated(keys.case(invoiceId), {
      UpdateExpression: 'REMOVE blockedPaymentMethod SET updatedAt = :at',
      // Only that card's block: a block put on another card since stays.
      ConditionExpression: 'blockedPaymentMethod.id = :id',
      ExpressionAttributeValues: { ':id': paymentMethodId, ':at': now },
    });
  }
}
