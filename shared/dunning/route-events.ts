// Routes the events the webhook stored, as the inbox hands them over: a batch of messages, each an
// event Stripe signed. The events of one group (one customer, event-group.ts) are routed one after
// another in the order given; different groups at once. A message that fails is reported, and so is
// every later one of its group, so none overtakes it: the inbox hands them over again, in order.
import { IDEMPOTENCY_IN_PROGRESS_ERROR, InvalidInputError } from '../domain/errors.ts';
import type { Log, MetricsSink } from '../domain/ports.ts';
import type { IngestResult } from './ingest.ts';
import { StripeEventSchema, type StripeEventEnvelope } from './invoice-event.ts';

/** What both routers (the webhook's inbox, and EventBridge) share. */
export interface IngestDeps {
  log: Log;
  metrics: MetricsSink;
  /** Runs `ingest` at most once per event id (Powertools idempotency), whichever path the event came by. */
  processOnce(event: StripeEventEnvelope): Promise<IngestResult>;
  /**
   * Gives the dedupe the invocation's deadline. Without it an invocation that dies mid-way leaves an
   * in-progress record that blocks every redelivery of that event until the record expires.
   */
  registerDeadline(context: { getRemainingTimeInMillis(): number }): void;
}

export type RouteEventsDeps = Omit<IngestDeps, 'registerDeadline'>;

/** One message of the inbox. */
export interface StoredEventMessage {
  /** Names the message in the answer (SQS: its messageId). */
  messageId: string;
  group: string;
  /** The event as Stripe signed it. */
  body: string;
}

export type RoutedOutcome = IngestResult | { action: 'unusable'; reason: string } | { action: 'failed'; reason: string } | { action: 'skipped'; reason: string };

/** Per message, in the order given; `failed` holds the ids to hand over again. */
export interface RoutedBatch {
  outcomes: Record<string, RoutedOutcome>;
  failed: string[];
}

export async function routeStoredEvents(deps: RouteEventsDeps, messages: readonly StoredEventMessage[]): Promise<RoutedBatch> {
  const groups = new Map<string, StoredEventMessage[]>();
  for (const message of messages) {
    const group = groups.get(message.group);
    if (group) group.push(message);
    else groups.set(message.group, [message]);
  }
  const outcomes: Record<string, RoutedOutcome> = {};
  const failed = new Set<string>();
  await Promise.all(
    [...groups.values()].map(async (group) => {
      let blockedBy: string | undefined;
      for (const message of group) {
        if (blockedBy) {
          outcomes[message.messageId] = { action: 'skipped', reason: `an earlier event of its group (${blockedBy}) failed; kept in order behind it` };
          failed.add(message.messageId);
          continue;
        }
        const outcome = await routeOne(deps, message);
        outcomes[message.messageId] = outcome;
        if (outcome.action === 'failed') {
          failed.add(message.messageId);
          blockedBy = message.messageId;
        }
      }
    }),
  );
  return { outcomes, failed: messages.map((m) => m.messageId).filter((id) => failed.has(id)) };
}

async function routeOne(deps: RouteEventsDeps, message: StoredEventMessage): Promise<RoutedOutcome> {
  let event: StripeEventEnvelope;
  try {
    const parsed = StripeEventSchema.safeParse(JSON.parse(message.body));
    if (!parsed.success) throw new Error(`${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    event = parsed.data;
  } catch (error) {
    // The webhook stores only events it verified, so this message came from elsewhere: kept (it
    // fails until it lands in the dead-letter queue), never dropped.
    deps.log.error('queued message is not a Stripe event; left to the dead-letter queue', { messageId: message.messageId, reason: (error as Error).message });
    return { action: 'failed', reason: `not a Stripe event: ${(error as Error).message}` };
  }
  try {
    return await deps.processOnce(event);
  } catch (error) {
    const name = (error as Error).name;
    if (name === InvalidInputError.name) {
      // Signed by Stripe but missing what we need (an API-version mismatch): handing it over again
      // cannot fix it, so it is acknowledged, loudly, rather than sent round until the DLQ.
      deps.log.error('signed event is unusable; acknowledged without processing', { eventId: event.id, type: event.type, reason: (error as Error).message });
      deps.metrics.count('WebhookRejected', { Reason: 'unusable_event' });
      return { action: 'unusable', reason: (error as Error).message };
    }
    if (name === IDEMPOTENCY_IN_PROGRESS_ERROR) {
      // The same event, come by EventBridge, is being routed right now: try again after it.
      deps.log.warn('this event is already being processed; handed over again later', { eventId: event.id });
      deps.metrics.count('WebhookRejected', { Reason: 'in_progress' });
      return { action: 'failed', reason: 'already being processed' };
    }
    deps.log.error('event processing failed; handed over again later', { eventId: event.id, error: error as Error });
    deps.metrics.count('WebhookRejected', { Reason: 'processing_failed' });
    return { action: 'failed', reason: (error as Error).message };
  }
}
