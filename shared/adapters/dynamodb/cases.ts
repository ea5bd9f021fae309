// Cases on the table: each state change is one conditional write on the case item (keys.case).
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CaseStatus, DunningCase, RecoveredBy } from '../../domain/case.ts';
import { CaseNotFoundError, StoreUnavailableError } from '../../domain/errors.ts';
import type { Cases } from '../../domain/ports.ts';
import { CASES_BY_CUSTOMER, keys, OPEN_CASES } from '../table.ts';
import { defined, isConditionFailed, type Item, RACE_ATTEMPTS, readCase, whyNotOpen, withoutStoreAttrs, type TableIO } from './table-io.ts';

export class DynamoCases implements Cases {
  constructor(private readonly table: TableIO) {}

  async createCase(c: DunningCase): Promise<{ created: boolean; case: DunningCase }> {
    for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
      try {
        await this.table.call(() => this.table.client.send(
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
        ));
        return { created: true, case: c };
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
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
    const pointer = await this.table.call(() => this.table.client.send(
      new GetCommand({ TableName: this.table.name, Key: keys.joined(invoiceId), ConsistentRead: true }),
    ));
    const joinedTo = pointer.Item?.joinedTo;
    return typeof joinedTo === 'string' ? this.getCase(joinedTo) : undefined;
  }

  async joinInvoice(caseInvoiceId: string, invoiceId: string, amount: number, now: string): Promise<boolean> {
    // The pointer first: if the join below fails, a stray pointer to a closed case is harmless.
    await this.table.call(() => this.table.client.send(
      new PutCommand({ TableName: this.table.name, Item: { ...keys.joined(invoiceId), joinedTo: caseInvoiceId, createdAt: now } }),
    ));
    try {
      await this.table.call(() => this.table.client.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.case(caseInvoiceId),
          UpdateExpression:
            'SET extraInvoiceIds = list_append(if_not_exists(extraInvoiceIds, :empty), :joined), amountDue.amount = amountDue.amount + :amount, updatedAt = :now',
          ConditionExpression: '#status = :open AND NOT contains(extraInvoiceIds, :invoice)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':empty': [], ':joined': [invoiceId], ':invoice': invoiceId, ':amount': amount, ':now': now, ':open': 'open' },
        }),
      ));
      return true;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      const current = await this.getCase(caseInvoiceId);
      return current?.status === 'open' && (current.extraInvoiceIds ?? []).includes(invoiceId);
    }
  }

  async setAmountDue(invoiceId: string, amount: number, now: string): Promise<void> {
    await this.table.call(() => this.table.client.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.case(invoiceId),
        UpdateExpression: 'SET amountDue.amount = :amount, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':amount': amount, ':now': now },
      }),
    ));
  }

  async setExecutionArn(invoiceId: string, executionArn: string, now: string): Promise<void> {
    try {
      await this.table.call(() => this.table.client.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.case(invoiceId),
          UpdateExpression: 'SET executionArn = :arn, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':arn': executionArn, ':now': now },
        }),
      ));
    } catch (err) {
      if (isConditionFailed(err)) throw new CaseNotFoundError(invoiceId);
      throw err;
    }
  }

  async beginStage(invoiceId: string, stage: string, now: string): Promise<DunningCase> {
    try {
      const out = await this.table.call(() => this.table.client.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.case(invoiceId),
          UpdateExpression: 'SET #stage = :stage, updatedAt = :now ADD stageRuns :one',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#stage': 'stage', '#status': 'status' },
          ExpressionAttributeValues: { ':stage': stage, ':now': now, ':open': 'open', ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      ));
      return withoutStoreAttrs<DunningCase>(out.Attributes ?? {});
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw await whyNotOpen(this.table, invoiceId);
    }
  }

  async closeCase(
    invoiceId: string,
    status: Exclude<CaseStatus, 'open'>,
    details: {
      now: string;
      recoveredBy?: RecoveredBy;
      error?: { name: string; message: string };
      reason?: string;
      from?: readonly CaseStatus[];
    },
  ): Promise<DunningCase | undefined> {
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
    try {
      const out = await this.table.call(() => this.table.client.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.case(invoiceId),
          // Leaving open takes the case out of the open-cases index.
          UpdateExpression: `SET ${sets.join(', ')} REMOVE ${OPEN_CASES.partitionKey}`,
          // Fails on a missing item too: closing a case that does not exist closes nothing.
          ConditionExpression: `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status', ...(details.error ? { '#error': 'error' } : {}) },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      ));
      return withoutStoreAttrs<DunningCase>(out.Attributes ?? {});
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }

  async reopenCase(invoiceId: string, now: string): Promise<DunningCase | undefined> {
    try {
      const out = await this.table.call(() => this.table.client.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.case(invoiceId),
          // Open again, so back in the open-cases index.
          UpdateExpression: 'SET #status = :open, #openCase = :openCase, reopenedAt = :now, updatedAt = :now REMOVE closedAt, #error',
          ConditionExpression: '#status = :flagged',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error', '#openCase': OPEN_CASES.partitionKey },
          ExpressionAttributeValues: { ':open': 'open', ':flagged': 'needs_attention', ':now': now, ':openCase': OPEN_CASES.value },
          ReturnValues: 'ALL_NEW',
        }),
      ));
      return withoutStoreAttrs<DunningCase>(out.Attributes ?? {});
    } catch (err) {
      if (isConditionFailed(err)) return undefined;
      throw err;
    }
  }

  async refineRecoveredBy(invoiceId: string, recoveredBy: RecoveredBy, now: string): Promise<boolean> {
    return this.table.written(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keys.case(invoiceId),
        UpdateExpression: 'SET recoveredBy = :by, updatedAt = :now',
        ConditionExpression: '#status = :recovered AND recoveredBy = :provisional',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':by': recoveredBy, ':now': now, ':recovered': 'recovered', ':provisional': 'invoice_paid' },
      }),
    );
  }

  async setPause(invoiceId: string, pausedUntil: string | undefined, now: string): Promise<DunningCase> {
    try {
      const out = await this.table.call(() => this.table.client.send(
        new UpdateCommand({
          TableName: this.table.name,
          Key: keys.case(invoiceId),
          UpdateExpression: pausedUntil ? 'SET pausedUntil = :until, updatedAt = :now' : 'REMOVE pausedUntil SET updatedAt = :now',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':open': 'open', ':now': now, ...(pausedUntil ? { ':until': pausedUntil } : {}) },
          ReturnValues: 'ALL_NEW',
        }),
      ));
      return withoutStoreAttrs<DunningCase>(out.Attributes ?? {});
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw await whyNotOpen(this.table, invoiceId);
    }
  }
}
