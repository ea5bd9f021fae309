// Remembers processed Stripe event ids with Powertools Idempotency in the dunning table, so a
// redelivered webhook does nothing twice. Records live under one partition (keys.processedEventsPartition).
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys, TABLE_KEYS } from './table.ts';

export interface EventDedupeOptions {
  /**
   * The client the records are written with. A DocumentClient works too: Powertools sends
   * low-level commands, which pass through a DocumentClient unchanged.
   */
  client: DynamoDBClient | DynamoDBDocumentClient;
  tableName: string;
  /** How long an event id is remembered; Stripe redelivers for up to 3 days. */
  ttlDays: number;
}

/**
 * Options for `makeIdempotent(fn, options)`. The first argument of `fn` is the Stripe event; its
 * `id` is the key. Concurrent deliveries of one event: the second throws
 * IdempotencyAlreadyInProgressError (the webhook answers non-2xx; Stripe redelivers later). If `fn`
 * throws, the record is deleted so a redelivery runs it again. A record whose `expiration` has
 * passed is overwritten, so TTL deletion (which dynalite never does) is not needed for correctness.
 *
 * Call `config.registerLambdaContext(context)` in each invocation when `fn` is not the handler
 * itself: without a context the in-progress record has no deadline, so an invocation that times
 * out mid-way blocks every redelivery of that event until `expiration` (ttlDays).
 */
export function createEventDedupe({ client, tableName, ttlDays }: EventDedupeOptions) {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName,
    // Powertools only sends low-level commands, so either client type is fine at runtime.
    awsSdkV3Client: client as DynamoDBClient,
    keyAttr: TABLE_KEYS.partitionKey,
    sortKeyAttr: TABLE_KEYS.sortKey,
    staticPkValue: keys.processedEventsPartition,
    expiryAttr: TABLE_KEYS.ttlAttribute,
  });
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'id',
    expiresAfterSeconds: ttlDays * 86_400,
    // An event without an id is malformed; fail rather than silently process it without dedupe.
    throwOnNoIdempotencyKey: true,
  });
  // A fixed prefix keeps the key independent of the Lambda's name, so a rename does not forget events.
  return { persistenceStore, config, keyPrefix: 'stripe-event' };
}
