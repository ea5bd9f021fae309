// The CaseStore on one DynamoDB table (layout in table.ts). Every state change is a single
// conditional write, never a transaction, so the same code runs on dynalite, which has none.
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { CaseStatus, DunningCase, EmailSuppression, HeadsUpRecord, InAppNotice, RecoveredBy, TimelineEntry } from '../domain/case.ts';
import { CaseClosedError, CaseNotFoundError, StoreUnavailableError } from '../domain/errors.ts';
import type { CaseStore } from '../domain/ports.ts';
import { errorName, isTransientAwsError, messageOf } from './aws-errors.ts';
import { CASES_BY_CUSTOMER, keys, OPEN_CASES, TABLE_KEYS } from './table.ts';

type ClosingEmailKind = 'confirmation' | 'termination';
type Item = Record<string, unknown>;

/** Attributes the store keeps on a case item that are not part of DunningCase. */
const claimAttr = (kind: ClosingEmailKind) => `${kind}EmailClaimedAt` as const;
const STORE_ONLY_ATTRS = ['pk', 'sk', 'payLock', 'payLockUntil', CASES_BY_CUSTOMER.partitionKey, OPEN_CASES.partitionKey, claimAttr('confirmation'), claimAttr('termination')];

/** SNS retries a delivery for up to days; an event id is remembered a little longer. */
const EMAIL_EVENT_TTL_SECONDS = 30 * 86_400;

/** Attempts for the read-then-write paths that can lose a race to a concurrent writer. */
const RACE_ATTEMPTS = 3;

/**
 * Timeline entries written in the same millisecond must all persist (the key includes `at`), and
 * from one process they should read back in the order written: a per-process counter gives the
 * order, a random suffix keeps two processes apart.
 */
let timelineCounter = 0;
function timelineSeq(): string {
  timelineCounter = (timelineCounter + 1) % 1e8;
  const random = Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
  return `${String(timelineCounter).padStart(8, '0')}${random}`;
}

function withoutStoreAttrs<T>(item: Item): T {
  const copy: Item = { ...item };
  for (const attr of STORE_ONLY_ATTRS) delete copy[attr];
  return copy as T;
}

/** DynamoDB rejects undefined values; the client may not be configured to drop them. */
function defined(obj: object): Item {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

function headsUpOf(item: Item): HeadsUpRecord {
  const record = withoutStoreAttrs<HeadsUpRecord>(item);
  return { ...record, claims: Array.isArray(record.claims) ? record.claims : [] };
}

function isConditionFailed(err: unknown): boolean {
  return errorName(err) === 'ConditionalCheckFailedException';
}

export class DynamoCaseStore implements CaseStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createCase(c: DunningCase): Promise<{ created: boolean; case: DunningCase }> {
    for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
      try {
        await this.call(() => this.client.send(
          new PutCommand({
            TableName: this.tableName,
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

  async getCase(invoiceId: string): Promise<DunningCase | undefined> {
    const out = await this.call(() => this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.case(invoiceId), ConsistentRead: true }),
    ));
    return out.Item ? withoutStoreAttrs<DunningCase>(out.Item) : undefined;
  }

  async findCaseOfInvoice(invoiceId: string): Promise<DunningCase | undefined> {
    const own = await this.getCase(invoiceId);
    if (own) return own;
    const pointer = await this.call(() => this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.joined(invoiceId), ConsistentRead: true }),
    ));
    const joinedTo = pointer.Item?.joinedTo;
    return typeof joinedTo === 'string' ? this.getCase(joinedTo) : undefined;
  }

  async joinInvoice(caseInvoiceId: string, invoiceId: string, amount: number, now: string): Promise<boolean> {
    // The pointer first: if the join below fails, a stray pointer to a closed case is harmless.
    await this.call(() => this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.joined(invoiceId), joinedTo: caseInvoiceId, createdAt: now } }),
    ));
    try {
      await this.call(() => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
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
    await this.call(() => this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.case(invoiceId),
        UpdateExpression: 'SET amountDue.amount = :amount, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':amount': amount, ':now': now },
      }),
    ));
  }

  async setExecutionArn(invoiceId: string, executionArn: string, now: string): Promise<void> {
    try {
      await this.call(() => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
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

  async blockPaymentMethod(invoiceId: string, block: { id: string; code: string; at: string }): Promise<void> {
    try {
      await this.call(() => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
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
    return this.written(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.case(invoiceId),
        UpdateExpression: 'REMOVE blockedPaymentMethod SET updatedAt = :at',
        // Only that card's block: a block put on another card since stays.
        ConditionExpression: 'blockedPaymentMethod.id = :id',
        ExpressionAttributeValues: { ':id': paymentMethodId, ':at': now },
      }),
    );
  }

  async beginStage(invoiceId: string, stage: string, now: string): Promise<DunningCase> {
    try {
      const out = await this.call(() => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
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
      throw await this.whyNotOpen(invoiceId);
    }
  }

  async claimNotice(invoiceId: string, stage: string, now: string): Promise<boolean> {
    for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
      try {
        await this.call(() => this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.case(invoiceId),
            UpdateExpression: 'SET noticesSent = list_append(if_not_exists(noticesSent, :empty), :claimed), updatedAt = :now',
            ConditionExpression: '#status = :open AND NOT contains(noticesSent, :stage)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':open': 'open',
              ':stage': stage,
              ':claimed': [stage],
              ':empty': [],
              ':now': now,
            },
          }),
        ));
        return true;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      const current = await this.getCase(invoiceId);
      if (!current) throw new CaseNotFoundError(invoiceId);
      if (current.status !== 'open') throw new CaseClosedError(invoiceId, current.status);
      if (current.noticesSent?.includes(stage)) return false;
      // A concurrent release gave the claim back between our write and read: claim again.
    }
    throw new StoreUnavailableError(`could not claim notice ${stage} of case ${invoiceId}: contention`);
  }

  async releaseNotice(invoiceId: string, stage: string, now: string): Promise<void> {
    // DynamoDB removes list elements by index only, so find the index, then remove it on the
    // condition that it still holds this stage; a concurrent change moves it, so look again.
    for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
      const current = await this.getCase(invoiceId);
      if (!current) throw new CaseNotFoundError(invoiceId);
      const index = (current.noticesSent ?? []).indexOf(stage);
      if (index < 0) return;
      try {
        await this.call(() => this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.case(invoiceId),
            UpdateExpression: `REMOVE noticesSent[${index}] SET updatedAt = :now`,
            ConditionExpression: `noticesSent[${index}] = :stage`,
            ExpressionAttributeValues: { ':stage': stage, ':now': now },
          }),
        ));
        return;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
    }
    throw new StoreUnavailableError(`could not release notice ${stage} of case ${invoiceId}: contention`);
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
      const out = await this.call(() => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
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
      const out = await this.call(() => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
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
    return this.written(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.case(invoiceId),
        UpdateExpression: 'SET recoveredBy = :by, updatedAt = :now',
        ConditionExpression: '#status = :recovered AND recoveredBy = :provisional',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':by': recoveredBy, ':now': now, ':recovered': 'recovered', ':provisional': 'invoice_paid' },
      }),
    );
  }

  async claimClosingEmail(invoiceId: string, kind: ClosingEmailKind, now: string): Promise<boolean> {
    const written = await this.written(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.case(invoiceId),
        UpdateExpression: 'SET #claim = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#claim)',
        ExpressionAttributeNames: { '#claim': claimAttr(kind) },
        ExpressionAttributeValues: { ':now': now },
      }),
    );
    if (written) return true;
    if (!(await this.getCase(invoiceId))) throw new CaseNotFoundError(invoiceId);
    return false;
  }

  async releaseClosingEmail(invoiceId: string, kind: ClosingEmailKind): Promise<void> {
    try {
      await this.call(() => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.case(invoiceId),
          UpdateExpression: 'REMOVE #claim',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#claim': claimAttr(kind) },
        }),
      ));
    } catch (err) {
      if (isConditionFailed(err)) throw new CaseNotFoundError(invoiceId);
      throw err;
    }
  }

  async setPause(invoiceId: string, pausedUntil: string | undefined, now: string): Promise<DunningCase> {
    try {
      const out = await this.call(() => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
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
      throw await this.whyNotOpen(invoiceId);
    }
  }

  async appendTimeline(invoiceId: string, entry: TimelineEntry): Promise<void> {
    const item: TimelineEntry = { at: entry.at, type: entry.type, stage: entry.stage, detail: entry.detail, messageId: entry.messageId, eventId: entry.eventId };
    await this.call(() => this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...defined(item), ...keys.timeline(invoiceId, entry.at, timelineSeq()) },
      }),
    ));
  }

  async listTimeline(invoiceId: string): Promise<TimelineEntry[]> {
    const items = await this.allPages((startKey) => this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.case(invoiceId).pk, ':prefix': keys.timelinePrefix },
        ScanIndexForward: true,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    ));
    return items.map(
      (item) => defined({ at: item.at, type: item.type, stage: item.stage, detail: item.detail, messageId: item.messageId, eventId: item.eventId }) as unknown as TimelineEntry,
    );
  }

  /** A full-table scan: fine for the local runtime and a demo dashboard, not for a large table. */
  async listCases(): Promise<DunningCase[]> {
    const items = await this.allPages((startKey) => this.client.send(
      new ScanCommand({
        TableName: this.tableName,
        FilterExpression: 'sk = :case',
        ExpressionAttributeValues: { ':case': keys.case('').sk },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    ));
    return items.map((item) => withoutStoreAttrs<DunningCase>(item));
  }

  /** The open cases, newest first, from the sparse open-cases index: never a scan of closed ones. */
  async listOpenCases(): Promise<DunningCase[]> {
    const items = await this.allPages((startKey) => this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: OPEN_CASES.indexName,
        KeyConditionExpression: '#open = :open',
        ExpressionAttributeNames: { '#open': OPEN_CASES.partitionKey },
        ExpressionAttributeValues: { ':open': OPEN_CASES.value },
        ScanIndexForward: false,
        ExclusiveStartKey: startKey,
      }),
    ));
    // An index is eventually consistent: a case that closed a moment ago may still be listed.
    return items.map((item) => withoutStoreAttrs<DunningCase>(item)).filter((c) => c.status === 'open');
  }

  async acquirePayLock(invoiceId: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    return this.written(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.case(invoiceId),
        UpdateExpression: 'SET payLock = :holder, payLockUntil = :until',
        // A lock left by a crashed holder expires; a missing case is never locked into existence.
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(payLock) OR payLockUntil < :now OR payLock = :holder)',
        ExpressionAttributeValues: { ':holder': holder, ':until': now.getTime() + ttlMs, ':now': now.getTime() },
      }),
    );
  }

  async releasePayLock(invoiceId: string, holder: string): Promise<void> {
    try {
      await this.call(() => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.case(invoiceId),
          UpdateExpression: 'REMOVE payLock, payLockUntil',
          ConditionExpression: 'payLock = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      ));
    } catch (err) {
      if (!isConditionFailed(err)) throw err; // already expired and taken by someone else: theirs now
    }
  }

  async listCasesOfCustomer(customerId: string): Promise<DunningCase[]> {
    const items = await this.allPages((startKey) => this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: CASES_BY_CUSTOMER.indexName,
        KeyConditionExpression: '#customer = :customer',
        ExpressionAttributeNames: { '#customer': CASES_BY_CUSTOMER.partitionKey },
        ExpressionAttributeValues: { ':customer': customerId },
        ScanIndexForward: false,
        ExclusiveStartKey: startKey,
      }),
    ));
    return items.map((item) => withoutStoreAttrs<DunningCase>(item));
  }

  async putNotice(notice: InAppNotice): Promise<void> {
    await this.call(() => this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...defined(notice), ...keys.notice(notice.customerId) } }),
    ));
  }

  async getNotice(customerId: string): Promise<InAppNotice | undefined> {
    const out = await this.call(() => this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.notice(customerId), ConsistentRead: true }),
    ));
    return out.Item ? withoutStoreAttrs<InAppNotice>(out.Item) : undefined;
  }

  async clearNotice(customerId: string, invoiceId: string): Promise<void> {
    try {
      await this.call(() => this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.notice(customerId),
          // The banner may belong to a newer case of the same customer; leave that one alone.
          ConditionExpression: 'invoiceId = :inv',
          ExpressionAttributeValues: { ':inv': invoiceId },
        }),
      ));
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  async suppressEmail(addressKey: string, suppression: EmailSuppression): Promise<void> {
    try {
      await this.call(() => this.client.send(
        new PutCommand({
          TableName: this.tableName,
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
    const out = await this.call(() => this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.suppression(addressKey), ConsistentRead: true }),
    ));
    return out.Item ? withoutStoreAttrs<EmailSuppression>(out.Item) : undefined;
  }

  async liftEmailSuppression(addressKey: string): Promise<EmailSuppression | undefined> {
    const out = await this.call(() => this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: keys.suppression(addressKey), ReturnValues: 'ALL_OLD' }),
    ));
    return out.Attributes ? withoutStoreAttrs<EmailSuppression>(out.Attributes) : undefined;
  }

  async clearEmailSuppressed(invoiceId: string, now: string): Promise<boolean> {
    return this.written(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.case(invoiceId),
        UpdateExpression: 'REMOVE emailSuppressed SET updatedAt = :at',
        ConditionExpression: 'attribute_exists(emailSuppressed)',
        ExpressionAttributeValues: { ':at': now },
      }),
    );
  }

  async flagEmailSuppressed(invoiceId: string, flag: NonNullable<DunningCase['emailSuppressed']>): Promise<boolean> {
    const written = await this.written(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.case(invoiceId),
        // Any status: a closed case keeps the record of why its emails stopped too.
        UpdateExpression: 'SET emailSuppressed = :flag, updatedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(emailSuppressed)',
        ExpressionAttributeValues: { ':flag': { reason: flag.reason, at: flag.at }, ':at': flag.at },
      }),
    );
    if (written) return true;
    if (!(await this.getCase(invoiceId))) throw new CaseNotFoundError(invoiceId);
    return false;
  }

  async claimEmailEvent(eventKey: string, now: Date): Promise<boolean> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    return this.written(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.emailEvent(eventKey), [TABLE_KEYS.ttlAttribute]: nowSeconds + EMAIL_EVENT_TTL_SECONDS },
        // dynalite never expires items: an expired record counts as absent.
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
        ExpressionAttributeNames: { '#ttl': TABLE_KEYS.ttlAttribute },
        ExpressionAttributeValues: { ':now': nowSeconds },
      }),
    );
  }

  async releaseEmailEvent(eventKey: string): Promise<void> {
    await this.call(() => this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.emailEvent(eventKey) })));
  }

  async claimHeadsUp(
    customerId: string,
    cardId: string,
    claim: string,
    expiry: string,
    now: string,
  ): Promise<'claimed' | 'already_claimed' | 'card_updated'> {
    try {
      await this.call(() => this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.headsUp(customerId, cardId),
          UpdateExpression:
            'SET claims = list_append(if_not_exists(claims, :empty), :claimed), claimedAt = :now, customerId = :customer, cardId = :card',
          // One send per renewal; and none when the card was renewed after the expiry we read.
          ConditionExpression:
            '(attribute_not_exists(claims) OR NOT contains(claims, :claim)) AND (attribute_not_exists(updatedExpiry) OR updatedExpiry <= :expiry)',
          ExpressionAttributeValues: {
            ':empty': [],
            ':claimed': [claim],
            ':claim': claim,
            ':expiry': expiry,
            ':now': now,
            ':customer': customerId,
            ':card': cardId,
          },
        }),
      ));
      return 'claimed';
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    const current = await this.getHeadsUp(customerId, cardId);
    return current?.claims.includes(claim) ? 'already_claimed' : 'card_updated';
  }

  async releaseHeadsUp(customerId: string, cardId: string, claim: string): Promise<void> {
    for (let attempt = 1; attempt <= RACE_ATTEMPTS; attempt++) {
      const index = (await this.getHeadsUp(customerId, cardId))?.claims.indexOf(claim) ?? -1;
      if (index < 0) return;
      try {
        await this.call(() => this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.headsUp(customerId, cardId),
            UpdateExpression: `REMOVE claims[${index}]`,
            ConditionExpression: `claims[${index}] = :claim`,
            ExpressionAttributeValues: { ':claim': claim },
          }),
        ));
        return;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
    }
    throw new StoreUnavailableError(`could not release the heads-up ${claim} of ${customerId}: contention`);
  }

  async setHeadsUpBanner(customerId: string, cardId: string, bannerId: string): Promise<void> {
    await this.call(() => this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.headsUp(customerId, cardId),
        UpdateExpression: 'SET bannerId = :banner',
        ExpressionAttributeValues: { ':banner': bannerId },
      }),
    ));
  }

  async cancelHeadsUp(customerId: string, cardId: string, expiry: string, now: string): Promise<HeadsUpRecord | undefined> {
    const out = await this.call(() => this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.headsUp(customerId, cardId),
        UpdateExpression:
          'SET updatedExpiry = :expiry, customerId = :customer, cardId = :card, claims = if_not_exists(claims, :empty), cardUpdatedAt = :now',
        ExpressionAttributeValues: { ':expiry': expiry, ':customer': customerId, ':card': cardId, ':empty': [], ':now': now },
        ReturnValues: 'ALL_OLD',
      }),
    ));
    return out.Attributes ? headsUpOf(out.Attributes) : undefined;
  }

  async getHeadsUp(customerId: string, cardId: string): Promise<HeadsUpRecord | undefined> {
    const out = await this.call(() => this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.headsUp(customerId, cardId), ConsistentRead: true }),
    ));
    return out.Item ? headsUpOf(out.Item) : undefined;
  }

  /** After a write conditioned on an open case failed: the error that says why. */
  private async whyNotOpen(invoiceId: string): Promise<Error> {
    const current = await this.getCase(invoiceId);
    if (!current) return new CaseNotFoundError(invoiceId);
    return new CaseClosedError(invoiceId, current.status);
  }

  /** Runs one call, turning throttling, 5xx and network failures into StoreUnavailableError. */
  /** Sends a conditional write: true if it was written, false if its condition did not hold. */
  private async written(command: PutCommand | UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.call(() => this.client.send(command as UpdateCommand));
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  /**
   * Every item a Query or Scan finds, following LastEvaluatedKey page by page (DynamoDB stops a page
   * at 1 MB). Each page goes through `call`, so a transient failure is the store's own error. Written
   * here rather than with lib-dynamodb's paginators so every page keeps that mapping.
   */
  private async allPages(page: (startKey: Item | undefined) => Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }>): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const out = await this.call(() => page(startKey));
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (isTransientAwsError(err)) {
        throw new StoreUnavailableError(`DynamoDB unavailable (${errorName(err) || 'network'}): ${messageOf(err)}`, {
          cause: err,
        });
      }
      throw err;
    }
  }
}
