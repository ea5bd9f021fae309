// The webhook's accepted and rejected counts, one per delivery, with the reason a delivery was not
// taken, and the router's counts for what the webhook can no longer know (an unusable event, one in
// flight elsewhere, a failure). The dependencies are stand-ins: only answers and metrics are under test.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { InvalidInputError } from '#shared/domain/errors.ts';
import type { InboxEvent } from '#shared/domain/ports.ts';
import { silentLog } from '#shared/dunning/deps.ts';
import { WEBHOOK_REJECTION_REASONS } from '#shared/dunning/metrics.ts';
import { routeStoredEvents, type RouteEventsDeps } from '#shared/dunning/route-events.ts';
import { verifyStripeSignature } from '#shared/dunning/stripe-signature.ts';
import { MAX_BODY_BYTES, receiveWebhook, type WebhookDeps, type WebhookRequest } from '#shared/dunning/webhook.ts';
import { recordingMetrics } from '../fixtures/metrics.ts';

const SECRET = 'whsec_metrics_test';
const event = { id: 'evt_metrics', object: 'event', type: 'invoice.payment_failed', livemode: false, created: 1_700_000_000, data: { object: { id: 'in_1', customer: 'cus_1' } } };

function signed(payload: string): WebhookRequest {
  return { method: 'POST', rawBody: payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) };
}

function deps(store: (event: InboxEvent) => Promise<void> = async () => {}) {
  const metrics = recordingMetrics();
  const stored: InboxEvent[] = [];
  const d: WebhookDeps = {
    log: silentLog,
    metrics,
    verify: (rawBody, signature) => verifyStripeSignature(rawBody, signature, SECRET),
    inbox: { store: async (e) => { await store(e); stored.push(e); } },
  };
  return { d, metrics, stored };
}

describe('receiveWebhook', () => {
  it('stores a verified event by its id, in its customer\'s group, with the exact bytes signed, and counts WebhookAccepted', async () => {
    const { d, metrics, stored } = deps();
    const payload = JSON.stringify(event, null, 2);

    const response = await receiveWebhook(d, signed(payload));

    expect(response).toEqual({ statusCode: 200, body: { received: true, id: 'evt_metrics' } });
    expect(stored).toEqual([{ id: 'evt_metrics', group: 'cus_1', body: payload }]);
    expect(metrics.data).toEqual([{ name: 'WebhookAccepted', dimensions: {}, value: 1 }]);
  });

  const rejections: Array<[string, () => ReturnType<typeof deps>, () => WebhookRequest, number]> = [
    ['method_not_allowed', () => deps(), () => ({ ...signed('{}'), method: 'GET' }), 405],
    ['body_too_large', () => deps(), () => signed(' '.repeat(MAX_BODY_BYTES + 1)), 413],
    ['signature_missing', () => deps(), () => ({ method: 'POST', rawBody: JSON.stringify(event), signature: undefined }), 400],
    ['signature_invalid', () => deps(), () => ({ ...signed(JSON.stringify(event)), rawBody: JSON.stringify({ ...event, id: 'evt_forged' }) }), 400],
    ['body_not_json', () => deps(), () => signed('not json'), 400],
    ['not_an_event', () => deps(), () => signed(JSON.stringify({ hello: 'world' })), 400],
    ['processing_failed', () => deps(async () => Promise.reject(new Error('SQS is down'))), () => signed(JSON.stringify(event)), 500],
  ];

  it.each(rejections)('counts WebhookRejected with Reason %s, once, and stores nothing', async (reason, setup, request, status) => {
    const { d, metrics, stored } = setup();

    const response = await receiveWebhook(d, request());

    expect(response.statusCode).toBe(status);
    expect(stored).toEqual([]);
    expect(metrics.data).toEqual([{ name: 'WebhookRejected', dimensions: { Reason: reason }, value: 1 }]);
  });

  const routed: Array<[string, Error, 'unusable' | 'failed']> = [
    ['unusable_event', new InvalidInputError('no amount_due'), 'unusable'],
    ['in_progress', new IdempotencyAlreadyInProgressError('busy'), 'failed'],
    ['processing_failed', new Error('DynamoDB is down'), 'failed'],
  ];

  it.each(routed)('counts WebhookRejected with Reason %s once when the router behind the queue meets it', async (reason, error, action) => {
    const metrics = recordingMetrics();
    const d: RouteEventsDeps = { log: silentLog, metrics, processOnce: async () => Promise.reject(error) };

    const { outcomes, failed } = await routeStoredEvents(d, [{ messageId: 'm1', group: 'cus_1', body: JSON.stringify(event) }]);

    expect(outcomes.m1?.action).toBe(action);
    expect(failed).toEqual(action === 'failed' ? ['m1'] : []);
    expect(metrics.data).toEqual([{ name: 'WebhookRejected', dimensions: { Reason: reason }, value: 1 }]);
  });

  it('names every rejection reason the webhook and its router emit in WEBHOOK_REJECTION_REASONS', () => {
    expect([...new Set([...rejections, ...routed].map(([reason]) => reason))].sort()).toEqual([...WEBHOOK_REJECTION_REASONS].sort());
  });
});
