// The customer's access on an open case, kept on the case item (`access`).
import type { CaseAccess } from '../../domain/case.ts';
import type { AccessRecords } from '../../domain/ports.ts';
import { keys } from '../table.ts';
import type { TableIO } from './table-io.ts';

export class DynamoAccessRecords implements AccessRecords {
  constructor(private readonly table: TableIO) {}

  async setAccess(invoiceId: string, access: CaseAccess, now: string): Promise<boolean> {
    // Only forward, only while open: a retried stage, or one racing the payment, changes nothing.
    return this.table.updated(keys.case(invoiceId), {
      UpdateExpression: 'SET #access = :access, updatedAt = :at',
      ConditionExpression: 'attribute_exists(pk) AND #status = :open AND (attribute_not_exists(#access.#day) OR #access.#day < :day)',
      ExpressionAttributeNames: { '#access': 'access', '#status': 'status', '#day': 'day' },
      ExpressionAttributeValues: { ':access': access, ':at': now, ':open': 'open', ':day': access.day ?? 0 },
    });
  }
}
