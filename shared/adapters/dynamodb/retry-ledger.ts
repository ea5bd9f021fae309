// A case's charges and its next retry's plan, kept on the case item (chargeAttempts, nextRetry).
import type { DunningCase, NextRetry } from '../../domain/case.ts';
import type { RetryLedger } from '../../domain/ports.ts';
import type { ChargeAttempt } from '../../domain/retry-records.ts';
import { updateExistingCase, type TableIO } from './table-io.ts';

export class DynamoRetryLedger implements RetryLedger {
  constructor(private readonly table: TableIO) {}

  async recordChargeAttempt(invoiceId: string, attempt: ChargeAttempt, now: string): Promise<void> {
    // One list_append: concurrent writers (a stage and the router) each add theirs, none is lost.
    await updateExistingCase(this.table, invoiceId, {
      UpdateExpression: 'SET chargeAttempts = list_append(if_not_exists(chargeAttempts, :none), :attempt), updatedAt = :at',
      ExpressionAttributeValues: { ':none': [], ':attempt': [attempt], ':at': now },
    });
  }

  async setNextRetry(invoiceId: string, plan: NextRetry | undefined, now: string): Promise<void> {
    await updateExistingCase(this.table, invoiceId, plan
      ? { UpdateExpression: 'SET nextRetry = :plan, updatedAt = :at', ExpressionAttributeValues: { ':plan': plan, ':at': now } }
      : { UpdateExpression: 'REMOVE nextRetry SET updatedAt = :at', ExpressionAttributeValues: { ':at': now } });
  }

  async setClockAnchor(invoiceId: string, anchor: NonNullable<DunningCase['clockAnchor']>): Promise<void> {
    await updateExistingCase(this.table, invoiceId, {
      UpdateExpression: 'SET clockAnchor = :anchor',
      ExpressionAttributeValues: { ':anchor': anchor },
    });
  }
}
