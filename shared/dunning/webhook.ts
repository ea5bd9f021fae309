// Receives one Stripe webhook delivery: verify the signature on the raw body, check that it is a
// Stripe event, store it in the inbox and answer. Routing happens behind the inbox (route-events.ts),
// so Stripe's delivery waits for one signature and one write, never for Stripe, DynamoDB or SES.
import type { EventInbox, Log, MetricsSink } from '../domain/ports.ts';
import { eventGroupOf } from './event-group.ts';
import type { WebhookRejectionReason } from './metrics.ts';
import { StripeEventSchema } from './invoice-event.ts';

export interface WebhookRequest {
  method: string;
  rawBody: string;
  signature: string | undefined;
}

export interface WebhookResponse {
  statusCode: number;
  body: Record<string, unknown>;
}

export interface WebhookDeps {
  log: Log;
  metrics: MetricsSink;
  /** Checks Stripe-Signature against the signing secret and returns the body parsed. Throws if invalid. */
  verify(rawBody: string, signature: string): unknown;
  /**
   * Reads the signing secret again (at most so often); true if it changed, and `verify` then checks
   * against the new one. A delivery signed with a secret stored since this container read its own
   * (`dunning connect`, a secret rolled in Stripe) is accepted at once instead of after the cache's age.
   */
  refreshSecret?(): Promise<boolean>;
  /** Where verified events wait for the router. */
  inbox: EventInbox;
}

/** Stripe's events are a few KB; anything this large is not one, and is refused before any work. */
export const MAX_BODY_BYTES = 256 * 1024;

export async function receiveWebhook(deps: WebhookDeps, request: WebhookRequest): Promise<WebhookResponse> {
  const reject = (reason: WebhookRejectionReason, response: WebhookResponse): WebhookResponse => {
    deps.metrics.count('WebhookRejected', { Reason: reason });
    return response;
  };
  if (request.method !== 'POST') return reject('method_not_allowed', { statusCode: 405, body: { error: 'use POST' } });
  if (Buffer.byteLength(request.rawBody, 'utf8') > MAX_BODY_BYTES) {
    return reject('body_too_large', { statusCode: 413, body: { error: `body larger than ${MAX_BODY_BYTES} bytes` } });
  }
  if (!request.signature) return reject('signature_missing', { statusCode: 400, body: { error: 'missing Stripe-Signature header' } });

  let verified: unknown;
  try {
    verified = await verifyOrRefresh(deps, request.rawBody, request.signature);
  } catch (error) {
    // The body is parsed only after the signature matched: a SyntaxError is a signed non-JSON body.
    if (error instanceof SyntaxError) return reject('body_not_json', { statusCode: 400, body: { error: 'body is not JSON' } });
    deps.log.warn('webhook signature rejected', { reason: (error as Error).message });
    return reject('signature_invalid', { statusCode: 400, body: { error: `signature verification failed: ${(error as Error).message}` } });
  }

  const parsed = StripeEventSchema.safeParse(verified);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject('not_an_event', { statusCode: 400, body: { error: `not a Stripe event: ${issue?.path.join('.')}: ${issue?.message}` } });
  }
  const event = parsed.data;

  try {
    // The signed bytes, not a re-serialization: the router reads exactly what Stripe sent.
    await deps.inbox.store({ id: event.id, group: eventGroupOf(event), body: request.rawBody });
  } catch (error) {
    deps.log.error('event not stored; Stripe will redeliver', { eventId: event.id, error: error as Error });
    return reject('processing_failed', { statusCode: 500, body: { error: 'event not stored; Stripe will retry', id: event.id } });
  }
  deps.metrics.count('WebhookAccepted');
  return { statusCode: 200, body: { received: true, id: event.id } };
}

/** Verifies; on a signature that does not match, reads the secret again once, if it may, and verifies again. */
async function verifyOrRefresh(deps: WebhookDeps, rawBody: string, signature: string): Promise<unknown> {
  try {
    return deps.verify(rawBody, signature);
  } catch (error) {
    if (error instanceof SyntaxError || !deps.refreshSecret || !(await deps.refreshSecret())) throw error;
    deps.log.info('webhook signing secret changed; verifying again with the new one');
    return deps.verify(rawBody, signature);
  }
}
