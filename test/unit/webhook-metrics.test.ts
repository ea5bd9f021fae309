// The webhook's accepted and rejected counts, one per delivery, with the reason a delivery was not
// taken. The dependencies are stand-ins: what is under test is only the answer and its metric.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { InvalidInputError } from '#shared/domain/errors.ts';
import { silentLog } from '#shared/dunning/deps.ts';
import { WEBHOOK_REJECTION_REASONS } from '#shared/dunning/metrics.ts';
import { MAX_BODY_BYTES, receiveWebhook, type WebhookDeps, type WebhookRequest } from '#shared/dunning/webhook.ts';
import { recordingMetrics } from '../fixtures/metrics.ts';

const SECRET = 'whsec_metrics_test';
const stripe = new Stripe('sk_test_unused');
const event = { id: 'evt_metrics', object: 'event', type: 'invoice.payment_failed', livemode: false, created: 1_700_000_000, data: { object: { id: 'in_1' } } };

function signed(payload: string): WebhookRequest {
  return { method: 'POST', rawBody: payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) };
}

function deps(processOnce: WebhookDeps['processOnce'] = async () => ({ action: 'ignored', reason: 'test' })) {
  const metrics = recordingMetrics();
  const d: WebhookDeps = {
    log: silentLog,
    metrics,
    verify: (rawBody, signature) => stripe.webhooks.constructEvent(rawBody, signature, SECRET),
    processOnce,
    registerDeadline() {},
  };
  return { d, metrics };
}

describe('receiveWebhook metrics', () => {
  it('counts a processed event as WebhookAccepted, and nothing as rejected', async () => {
    const { d, metrics } = deps();

    const response = await receiveWebhook(d, signed(JSON.stringify(event)));

    expect(response.statusCode).toBe(200);
    expect(metrics.data).toEqual([{ name: 'WebhookAccepted', dimensions: {}, value: 1 }]);
  });

  const rejections: Array<[string, () => ReturnType<typeof deps>, () => WebhookRequest, number]> = [
    ['method_not_allowed', () => deps(), () => ({ ...signed('{}'), method: 'GET' }), 405],
    ['body_too_large', () => deps(), () => signed(' '.repeat(MAX_BODY_BYTES + 1)), 413],
    ['signature_missing', () => deps(), () => ({ method: 'POST', rawBody: JSON.stringify(event), signature: undefined }), 400],
    ['signature_invalid', () => deps(), () => ({ ...signed(JSON.stringify(event)), rawBody: JSON.stringify({ ...event, id: 'evt_forged' }) }), 400],
    ['body_not_json', () => deps(), () => signed('not json'), 400],
    ['not_an_event', () => deps(), () => signed(JSON.stringify({ hello: 'world' })), 400],
    ['unusable_event', () => deps(async () => Promise.reject(new InvalidInputError('no amount_due'))), () => signed(JSON.stringify(event)), 200],
    ['in_progress', () => deps(async () => Promise.reject(new IdempotencyAlreadyInProgressError('busy'))), () => signed(JSON.stringify(event)), 409],
    ['processing_failed', () => deps(async () => Promise.reject(new Error('DynamoDB is down'))), () => signed(JSON.stringify(event)), 500],
  ];

  it('names every rejection reason it can emit in WEBHOOK_REJECTION_REASONS', () => {
    expect(rejections.map(([reason]) => reason).sort()).toEqual([...WEBHOOK_REJECTION_REASONS].sort());
  });

  it.each(rejections)('counts WebhookRejected with Reason %s, once', async (reason, setup, request, status) => {
    const { d, metrics } = setup();

    const response = await receiveWebhook(d, request());

    expect(response.statusCode).toBe(status);
    expect(metrics.data).toEqual([{ name: 'WebhookRejected', dimensions: { Reason: reason }, value: 1 }]);
  });
});
