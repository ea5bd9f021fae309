// Receives one Stripe event from Stripe's Amazon EventBridge destination and routes it through the
// webhook's dedupe and router. No signature is checked: only Stripe's partner event source can put
// events on its partner event bus, so the bus is the trust boundary.
import { IDEMPOTENCY_IN_PROGRESS_ERROR, InvalidInputError } from '../domain/errors.ts';
import * as z from '../zod.ts';
import type { IngestResult } from './ingest.ts';
import { StripeEventSchema } from './invoice-event.ts';
import type { IngestDeps } from './route-events.ts';

/**
 * Every event Stripe puts on a partner event bus has a `source` under this prefix, followed by the
 * event destination: `aws.partner/stripe.com/ed_…`. The partner event bus has the same name.
 */
export const STRIPE_PARTNER_SOURCE_PREFIX = 'aws.partner/stripe.com/';

/**
 * The EventBridge envelope around a Stripe snapshot event: `detail` is the event object a webhook
 * would carry, and `detail-type` repeats its type. Only the fields the product relies on are checked.
 */
export const StripeEventBridgeEnvelopeSchema = z
  .object({
    id: z.string().check(z.minLength(1)),
    'detail-type': z.string().check(z.minLength(1)),
    source: z.string().check(
      z.startsWith(STRIPE_PARTNER_SOURCE_PREFIX, {
        error: `is not Stripe's partner event source (${STRIPE_PARTNER_SOURCE_PREFIX}…)`,
      }),
    ),
    detail: StripeEventSchema,
  })
  .check(
    z.refine((envelope) => envelope.detail.type === envelope['detail-type'], {
      error: 'does not match detail.type',
      path: ['detail-type'],
    }),
  );
export type StripeEventBridgeEnvelope = z.infer<typeof StripeEventBridgeEnvelopeSchema>;

/** The webhook's dedupe and router. */
export type EventBridgeDeps = IngestDeps;

export type EventBridgeResult = IngestResult | { action: 'unusable'; reason: string };

/**
 * Returns normally when the event was processed, was a duplicate, or can never be processed
 * (redelivering it cannot help, so it is logged and counted, not failed). Throws when a retry may
 * succeed: another delivery of the event is in flight, or a dependency failed. Lambda then retries
 * the invocation, and after the last attempt the event goes to the dead-letter queue.
 */
export async function receiveEventBridgeEvent(deps: EventBridgeDeps, envelope: unknown): Promise<EventBridgeResult> {
  const parsed = StripeEventBridgeEnvelopeSchema.safeParse(envelope);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'envelope';
    return unusable(deps, envelope, `not a Stripe event envelope: ${where}: ${issue?.message}${thinEventHint(envelope)}`);
  }
  const event = parsed.data.detail;

  try {
    return await deps.processOnce(event);
  } catch (error) {
    const name = (error as Error).name;
    if (name === InvalidInputError.name) return unusable(deps, envelope, (error as Error).message);
    deps.log.warn(
      name === IDEMPOTENCY_IN_PROGRESS_ERROR
        ? 'this event is already being processed; failing the invocation so it is retried later'
        : 'event processing failed; failing the invocation so it is retried',
      { ...idsOf(envelope), reason: (error as Error).message },
    );
    throw error;
  }
}

function unusable(deps: EventBridgeDeps, envelope: unknown, reason: string): EventBridgeResult {
  deps.log.error('EventBridge event is unusable; dropped without processing', { ...idsOf(envelope), reason });
  deps.metrics.count('EventUnusable');
  return { action: 'unusable', reason };
}

/** The ids worth a log line, read defensively: the envelope may be anything. */
function idsOf(envelope: unknown): Record<string, string | undefined> {
  const e = (envelope ?? {}) as { id?: unknown; source?: unknown; 'detail-type'?: unknown; detail?: unknown };
  const detail = (e.detail ?? {}) as { id?: unknown; data?: { object?: { id?: unknown } } };
  const objectId = detail.data?.object?.id;
  return {
    eventBridgeEventId: text(e.id),
    eventId: text(detail.id),
    invoiceId: typeof objectId === 'string' && objectId.startsWith('in_') ? objectId : undefined,
    source: text(e.source),
    detailType: text(e['detail-type']),
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 200) : undefined;
}

/** A thin event carries no object to act on; the destination must send snapshot events instead. */
function thinEventHint(envelope: unknown): string {
  const detail = (envelope as { detail?: { object?: unknown } } | null)?.detail;
  return detail?.object === 'v2.core.event'
    ? ' (a thin event: set the Stripe event destination to send snapshot events)'
    : '';
}
