// Cases on the table: each state change is one conditional write on the case item (keys.case).
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { CaseStatus, DunningCase, RecoveredBy } from '../../domain/case.ts';
import { StoreUnavailableError } from '../../domain/errors.ts';
import type { Cases, ClosingDetails } from '../../domain/ports.ts';
import { CASES_BY_CUSTOMER, keys, OPEN_CASES } from '../table.ts';
import { defined, type Item, RACE_ATTEMPTS, readCase, updateCaseIf, updateExistingCase, whyNotOpen, type TableIO } from './table-io.ts';

export class DynamoCases implements Cases {
  constructor(private readonly table: TableIO) {}

  async createCase(c: DunningCase): Promise<{ created: boolean; case: DunningCase }> {
    for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
      const created = await this.table.written(
        new PutCommand({
          TableName: this.table.name,
          Item: {
            ...defined(c),
            ...keys.case(c.invoiceId),
            [CASES_BY_CUSTOMER.partitionKey]: c.customerId,
            ...(c.status === 'open' ? { [OPEN_CASES.partitionKey]: OPEN_CASES.value } : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      if (created) return { created: true, case: c };
      const existing = await this.getCase(c.invoiceId);
      if (existing) return { created: false, case: existing };
      // Items are never deleted, so this is a read that lost a race with nothing: try again.
    }
    throw new StoreUnavailableError(`could not create or read case ${c.invoiceId}`);
  }

  getCase(invoiceId: string): Promise<DunningCase | undefined> {
    return readCase(this.table, invoiceId);
  }

  async findCaseOfInvoice(invoiceId: string): Promise<DunningCase | undefined> {
    const own = await this.getCase(invoiceId);
    if (own) return own;
    const joinedTo = (await this.table.get(keys.joined(invoiceId)))?.joinedTo;
    return typeof joinedTo === 'string' ? this.getCase(joinedTo) : undefined;
  }

  async joinInvoice(caseInvoiceId: string, invoiceId: string, amount: number, now: string): Promise<boolean> {
    // The pointer first: if the join below fails, a stray pointer to a closed case is harmless.
    await this.table.put({ ...keys.joined(invoiceId), joinedTo: caseInvoiceId, createdAt: now });
    const joined = await this.table.updated(keys.case(caseInvoiceId), {
      UpdateExpression:
        'SET extraInvoiceIds = list_append(if_not_exists(extraInvoiceIds, :empty), :joined), amountDue.amount = amountDue.amount + :amount, updatedAt = :now',
      ConditionExpression: '#status = :open AND NOT contains(extraInvoiceIds, :invoice)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':empty': [], ':joined': [invoiceId], ':invoice': invoiceId, ':amount': amount, ':now': now, ':open': 'open' },
    });
    if (joined) return true;
    const current = await this.getCase(caseInvoiceId);
    return current?.status === 'open' && (current.extraInvoiceIds ?? []).includes(invoiceId);
  }

  async setAmountDue(invoiceId: string, amount: number, now: string): Promise<void> {
    await this.table.update(keys.case(invoiceId), {
      UpdateExpression: 'SET amountDue.amount = :amount, updatedAt = :now',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':amount': amount, ':now': now },
    });
  }

  async setExecutionArn(invoiceId: string, executionArn: string, now: string): Promise<void> {
    await updateExistingCase(this.table, invoiceId, {
      UpdateExpression: 'SET executionArn = :arn, updatedAt = :now',
      ExpressionAttributeValues: { ':arn': executionArn, ':now': now },
    });
  }

  async beginStage(invoiceId: string, stage: string, now: string): Promise<DunningCase> {
    const begun = await updateCaseIf(this.table, invoiceId, {
      UpdateExpression: 'SET #stage = :stage, updatedAt = :now ADD stageRuns :one',
      ConditionExpression: '#status = :open',
      ExpressionAttributeNames: { '#stage': 'stage', '#status': 'status' },
      ExpressionAttributeValues: { ':stage': stage, ':now': now, ':open': 'open', ':one': 1 },
    });
    if (begun) return begun;
    throw await whyNotOpen(this.table, invoiceId);
  }

  async closeCase(invoiceId: string, status: Exclude<CaseStatus, 'open'>, details: ClosingDetails): Promise<DunningCase | undefined> {
    const sets = ['#status = :status', 'closedAt = :now', 'updatedAt = :now'];
    const from = details.from ?? ['open'];
    const values: Item = { ':status': status, ':now': details.now };
    from.forEach((s, i) => (values[`:from${i}`] = s));
    if (details.recoveredBy) {
      sets.push('recoveredBy = :recoveredBy');
      values[':recoveredBy'] = details.recoveredBy;
    }
    if (details.reason) {
      sets.push('closedReason = :reason');
      values[':reason'] = details.reason;
    }
    if (details.error) {
      sets.push('#error = :error');
      values[':error'] = { name: details.error.name, message: details.error.message };
    }
    return updateCaseIf(this.table, invoiceId, {
      // Leaving open takes the case out of the open-cases index.
      UpdateExpression: `SET ${sets.join(', ')} REMOVE ${OPEN_CASES.partitionKey}`,
      // Fails on a missing item too: closing a case that does not exist closes nothing.
      ConditionExpression: `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
      ExpressionAttributeNames: { '#status': 'status', ...(details.error ? { '#error': 'error' } : {}) },
      ExpressionAttributeValues: values,
    });
  }

  async reopenCase(invoiceId: string, now: string): Promise<DunningCase | undefined> {
    return updateCaseIf(this.table, invoiceId, {
      // Open again, so back in the open-cases index.
      UpdateExpression: 'SET #status = :open, #openCase = :openCase, reopenedAt = :now, updatedAt = :now REMOVE closedAt, #error',
      ConditionExpression: '#status = :flagged',
      ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#openCase': OPEN_CASES.partitionKey },
      ExpressionAttributeValues: { ':open': 'open', ':flagged': 'needs_attention', ':now': now, ':openCase': OPEN_CASES.value },
    });
  }

  async refineRecoveredBy(invoiceId: string, recoveredBy: RecoveredBy, now: string): Promise<boolean> {
    return this.table.updated(keys.case(invoiceId), {
      UpdateExpression: 'SET recoveredBy = :by, updatedAt = :now',
      ConditionExpression: '#status = :recovered AND recoveredBy = :provisional',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':by': recoveredBy, ':now': now, ':recovered': 'recovered', ':provisional': 'invoice_paid' },
    });
  }

  async setPause(invoiceId: string, pausedUntil: string | undefined, now: string): Promise<DunningCase> {
    const paused = await updateCaseIf(this.table, invoiceId, {
      UpdateExpression: pausedUntil ? 'SET pausedUntil = :until, updatedAt = :now' : 'REMOVE pausedUntil SET updatedAt = :now',
      ConditionExpression: '#status = :open',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':open': 'open', ':now': now, ...(pausedUntil ? { ':until': pausedUntil } : {}) },
    });
    if (paused) return paused;
    throw await whyNotOpen(this.table, invoiceId);
  }
}
