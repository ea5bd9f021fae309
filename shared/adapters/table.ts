// The single DynamoDB table's key layout, shared by the CDK construct and the local runtime so
// the table created on loopback is the table deployed to AWS.

export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /**
   * Epoch seconds after which an item may be deleted by DynamoDB TTL. Processed-event records and
   * rate-limit windows carry it. dynalite never expires items, so readers must treat an expired record as
   * absent instead of relying on TTL to delete it.
   */
  ttlAttribute: 'expiration',
} as const;

/**
 * Cases by customer, for events that name a customer or subscription rather than an invoice
 * (card updated, subscription canceled, customer deleted). Only case items carry its key, so the
 * index holds nothing else.
 */
export const CASES_BY_CUSTOMER = {
  indexName: 'casesByCustomer',
  partitionKey: 'caseCustomerId',
  sortKey: 'createdAt',
} as const;

/**
 * Open cases, for the open-cases-by-stage gauge and `npx dunning cases --status open`. Sparse: only a
 * case item carries the key, and only while its status is open (set when it opens, removed when it
 * closes), so a query reads the open cases and nothing else, however many closed ones the table holds.
 * One partition value: its writes are a case's status changes (a handful per case over weeks), far
 * below what one index partition takes.
 */
export const OPEN_CASES = {
  indexName: 'openCases',
  partitionKey: 'openCase',
  sortKey: 'createdAt',
  /** The one value of the partition key. */
  value: 'OPEN',
} as const;

/**
 * The outbox: timeline entries whose event is not published yet. Sparse: an entry that publishes an
 * event is written with `outbox` set, and the publisher removes it once EventBridge has the event,
 * so the index holds only what is still owed (shared/adapters/dynamodb/outbox.ts). Sorted by when
 * the entry was written, so the oldest comes first. One partition value, as OPEN_CASES: a
 * handful of writes per case.
 */
export const UNPUBLISHED_EVENTS = {
  indexName: 'unpublishedEvents',
  partitionKey: 'outbox',
  /** When the entry was written (the writer's wall clock, ISO 8601), then its key: oldest first. */
  sortKey: 'outboxAt',
  /** The one value of the partition key. */
  value: 'PENDING',
} as const;

/** Item keys. One case's items share a partition so its timeline reads in one query. */
export const keys = {
  case: (invoiceId: string) => ({ pk: `CASE#${invoiceId}`, sk: 'CASE' }),
  timeline: (invoiceId: string, at: string, seq: string) => ({ pk: `CASE#${invoiceId}`, sk: `TIMELINE#${at}#${seq}` }),
  timelinePrefix: 'TIMELINE#',
  /** The customer's My Account banner. Its sort key says NOTICE: deployed tables hold it so. */
  banner: (customerId: string) => ({ pk: `CUSTOMER#${customerId}`, sk: 'NOTICE' }),
  /** An invoice that failed while its subscription already had an open case, and joined it. */
  joined: (invoiceId: string) => ({ pk: `CASE#${invoiceId}`, sk: 'JOINED' }),
  /**
   * One rate-limit window of one key (a payment link). The window is in the key, so a counter is
   * right on dynalite too, which never deletes expired items; TTL only tidies up in AWS.
   */
  rateWindow: (key: string, windowStart: number) => ({ pk: `RATE#${key}`, sk: `WINDOW#${windowStart}` }),
  /** An address that gets no more email, keyed by a hash of the address (never the address). */
  suppression: (addressKey: string) => ({ pk: `EMAIL#${addressKey}`, sk: 'SUPPRESSION' }),
  /** One SES event notification, claimed once: SNS delivers at least once. Carries the TTL attribute. */
  emailEvent: (eventKey: string) => ({ pk: `SESEVENT#${eventKey}`, sk: 'SESEVENT' }),
  /** The pre-dunning heads-up sent to a customer about one card. */
  headsUp: (customerId: string, cardId: string) => ({ pk: `CUSTOMER#${customerId}`, sk: `HEADSUP#${cardId}` }),
  /** Powertools idempotency records for processed Stripe events live under this partition prefix. */
  processedEventsPartition: 'EVENTS',
} as const;
