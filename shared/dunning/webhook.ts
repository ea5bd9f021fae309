// Receives one Stripe webhook delivery: verify the signature on the raw body, validate, process each
// event id once, answer in a way that makes Stripe retry exactly when something may have been lost.
import { IDEMPOTENCY_IN_PROGRESS_ERROR, InvalidInputError } from '../domain/errors.ts';
import type { Log, MetricsSink } from '../domain/ports.ts';
import type { WebhookRejectionReason } from './metrics.ts';
import type { IngestResult } from './ingest.ts';
import { StripeEventSchema, type StripeEventEnvelope } from './invoice-event.ts';

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
  /** Checks Stripe-Signature against the signing secret (stripe.webhooks.constructEvent). Throws if invalid. */
  verify(rawBody: string, signature: string): unknown;
  /** Runs `ingest` at most once per event id (Powertools idempotency). */
  processOnce(event: StripeEventEnvelope): Promise<IngestResult>;
  /**
   * Gives the dedupe the invocation's deadline. Without it an invocation that dies mid-way leaves an
   * in-progress record that blocks every redelivery of that event until the record expires.
   */
  registerDeadline(context: { getRemainingTimeInMillis(): number }): void;
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
    verified = deps.verify(request.rawBody, request.signature);
  } catch (error) {
    // constructEvent parses the body only after the signature matched: a SyntaxError is a signed non-JSON body.
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
    const result = await deps.processOnce(event);
    deps.metrics.count('WebhookAccepted');
    return { statusCode: 200, body: { received: true, id: event.id, ...result } };
  } catch (error) {
    const name = (error as Error).name;
    if (name === IDEMPOTENCY_IN_PROGRESS_ERROR) {
      // Another delivery of this event is being processed; make Stripe come back rather than drop it.
      return reject('in_progress', { statusCode: 409, body: { error: 'this event is already being processed; retry later', id: event.id } });
    }
    if (name === InvalidInputError.name) {
      // Signed by Stripe but missing what we need (an API-version mismatch): redelivering cannot fix
      // it, so acknowledge it rather than loop Stripe's retries, and make it loud.
      deps.log.error('signed event is unusable; acknowledged without processing', { eventId: event.id, type: event.type, reason: (error as Error).message });
      return reject('unusable_event', { statusCode: 200, body: { received: true, id: event.id, action: 'unusable', error: (error as Error).message } });
    }
    deps.log.error('event processing failed; Stripe will redeliver', { eventId: event.id, error: error as Error });
    return reject('processing_failed', { statusCode: 500, body: { error: 'processing failed; Stripe will retry', id: event.id } });
  }
}
