// The webhook endpoint as Stripe meets it: signature checked on the raw body, bad input answered
// with a clear 4xx, each event id processed once however often and however concurrently it comes.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { stripeFixture } from '../fixtures/stripe.ts';
import {
  latestEvent,
  renew,
  startTestRuntime,
  subjectsTo,
  subscribeWithDecliningCard,
  waitFor,
  withDeliveriesPaused,
  type TestRuntime,
} from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  // Long days: these tests look at what the webhook does, not at later stages.
  // Faults on purpose: forged and missing signatures on purpose.
  t = await startTestRuntime({ dayMs: 60_000, expectAlarms: ['WebhookSignatureRejections'] });
});
afterAll(async () => {
  await t?.close();
});

const secret = () => t.runtime.config.webhookSecret;

async function post(payload: string, signature?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(t.runtime.urls.webhook, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) },
    body: payload,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const sign = (payload: string, timestamp?: number) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret: secret(), timestamp });

/**
 * A real failed renewal in the sandbox, with deliveries paused, and its invoice.payment_failed event
 * as Stripe would send it: the test then delivers it as often and as concurrently as it likes.
 */
async function paymentFailedEvent(): Promise<string> {
  const subscriber = await subscribeWithDecliningCard(t.stripe, `Webhook ${Math.random().toString(36).slice(2, 8)}`);
  await withDeliveriesPaused(t.runtime, () => renew(t.stripe, subscriber));
  return latestEvent(t.stripe, 'invoice.payment_failed', subscriber.customerId);
}

describe('the webhook endpoint', () => {
  it('rejects a delivery without a Stripe-Signature header', async () => {
    const response = await post('{}');

    expect(response).toEqual({ status: 400, body: { error: 'missing Stripe-Signature header' } });
  });

  it('rejects a body that does not match its signature', async () => {
    const payload = await paymentFailedEvent();
    const signature = sign(payload);

    const response = await post(payload.replace(/"amount_due": \d+/, '"amount_due": 1'), signature);

    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/signature verification failed/);
    expect(await t.runtime.store.listCases()).not.toContainEqual(expect.objectContaining({ invoiceId: JSON.parse(payload).data.object.id }));
  });

  it('rejects a signature older than the tolerance window, so a captured delivery cannot be replayed', async () => {
    const payload = await paymentFailedEvent();

    const response = await post(payload, sign(payload, Math.floor(Date.now() / 1000) - 3600));

    expect(response.status).toBe(400);
    expect(response.body.error).toMatch(/tolerance/i);
  });

  it('acknowledges a signed event that lacks a field we need, naming it, so Stripe does not retry forever', async () => {
    const event = JSON.parse(await paymentFailedEvent());
    event.data.object.amount_due = 'a lot';
    const payload = JSON.stringify(event);

    const response = await post(payload, sign(payload));

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ action: 'unusable', error: expect.stringMatching(/amount_due/) });
    expect(await t.runtime.store.getCase(event.data.object.id)).toBeUndefined();
  });

  it('answers 413 to a body larger than 256 KB, before any other work', async () => {
    const payload = JSON.stringify({ padding: 'x'.repeat(256 * 1024) });

    const response = await post(payload, sign(payload));

    expect(response.status).toBe(413);
  });

  it('answers 400 to a correctly signed body that is not JSON', async () => {
    const payload = 'this is not json';

    const response = await post(payload, sign(payload));

    expect(response).toEqual({ status: 400, body: { error: 'body is not JSON' } });
  });

  it('answers 400 to a signature made with another secret', async () => {
    const payload = await paymentFailedEvent();
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else' });

    const response = await post(payload, signature);

    expect(response.status).toBe(400);
    expect(await t.runtime.store.getCase(JSON.parse(payload).data.object.id)).toBeUndefined();
  });

  it('ignores a live-mode event on a test-mode deployment', async () => {
    const event = JSON.parse(await paymentFailedEvent());
    event.livemode = true;
    event.data.object.livemode = true;
    const payload = JSON.stringify(event);

    const response = await post(payload, sign(payload));

    expect(response).toMatchObject({ status: 200, body: { action: 'ignored', reason: expect.stringMatching(/livemode/) } });
    expect(await t.runtime.store.getCase(event.data.object.id)).toBeUndefined();
  });

  it('acknowledges an event type it does not handle, and starts nothing', async () => {
    const event = stripeFixture('event');
    event.id = 'evt_unhandled1';
    const payload = JSON.stringify(event);

    const response = await post(payload, sign(payload));

    expect(response).toMatchObject({ status: 200, body: { received: true, action: 'ignored', reason: expect.stringMatching(/not handled/) } });
  });

  it("is the sandbox's endpoint for the handled event types only, as the README says to subscribe one in Stripe", async () => {
    expect(t.runtime.webhookEndpoint.enabledEvents).toEqual(HANDLED_EVENT_TYPES);
    const customer = await t.stripe.customers.create({ email: 'subscribed@example.com' });
    await t.stripe.customers.update(customer.id, { name: 'Subscribed' });
    const pending = async (type: string) =>
      (await t.stripe.events.list({ type, limit: 20 })).data.find((e) => (e.data.object as { id: string }).id === customer.id)?.pending_webhooks;
    // customer.created is not handled, so never sent; customer.updated is (pending until delivered).
    expect(await pending('customer.created')).toBe(0);
    await t.runtime.sandbox!.idle();
    expect(await pending('customer.updated')).toBe(0);
    expect((await t.stripe.events.list({ type: 'customer.updated', limit: 20 })).data.some((e) => (e.data.object as { id: string }).id === customer.id)).toBe(true);
  });

  it('opens one case and sends notice 1 once when the same event arrives 10 times in a row', async () => {
    const payload = await paymentFailedEvent();
    const invoice = JSON.parse(payload).data.object;

    const responses = [];
    for (let i = 0; i < 10; i++) responses.push(await post(payload, sign(payload)));
    await waitFor(async () => (await subjectsTo(t.runtime, invoice.customer_email)).length > 0, 5000, 'notice 1');

    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect((await t.runtime.store.listCases()).filter((c) => c.invoiceId === invoice.id)).toHaveLength(1);
    expect([...t.runtime.stepFunctions.executions.values()].filter((e) => e.name === invoice.id)).toHaveLength(1);
    expect(await subjectsTo(t.runtime, invoice.customer_email)).toEqual(["We haven't been able to take payment"]);
  });

  it('opens one case when the same event arrives 10 times at once; deliveries caught in flight are told to retry', async () => {
    const payload = await paymentFailedEvent();
    const invoice = JSON.parse(payload).data.object;

    const responses = await Promise.all(Array.from({ length: 10 }, () => post(payload, sign(payload))));
    await waitFor(async () => (await subjectsTo(t.runtime, invoice.customer_email)).length > 0, 5000, 'notice 1');

    // 409 makes Stripe redeliver later, so nothing is lost if the one in flight fails.
    expect(responses.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    expect(responses.some((r) => r.status === 200)).toBe(true);
    expect((await t.runtime.store.listCases()).filter((c) => c.invoiceId === invoice.id)).toHaveLength(1);
    expect(await subjectsTo(t.runtime, invoice.customer_email)).toEqual(["We haven't been able to take payment"]);
  });

  it('answers 5xx while Step Functions is throttled, so Stripe redelivers, and the redelivery finishes the job', async () => {
    const payload = await paymentFailedEvent();
    const invoice = JSON.parse(payload).data.object;
    // More than the SDK's own three attempts, so the throttle reaches the webhook.
    t.runtime.stepFunctions.injectFault({ action: 'StartExecution', error: 'ThrottlingException', count: 3 });

    const during = await post(payload, sign(payload));
    const afterwards = await post(payload, sign(payload));
    await waitFor(async () => (await subjectsTo(t.runtime, invoice.customer_email)).length > 0, 5000, 'notice 1');

    expect(during.status).toBe(500);
    expect(afterwards).toMatchObject({ status: 200, body: { action: 'case_opened' } });
    expect((await t.runtime.store.getCase(invoice.id))?.executionArn).toMatch(new RegExp(`:${invoice.id}$`));
    expect(await subjectsTo(t.runtime, invoice.customer_email)).toEqual(["We haven't been able to take payment"]);
  });
});
