// The webhook endpoint as Stripe meets it: signature checked on the raw body, bad input answered
// with a clear 4xx, a verified event stored and answered 200 at once, and routed behind the event
// queue once per event id however often and however concurrently it comes.
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { stripeFixture } from '../fixtures/stripe.ts';
import {
  deliver,
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
  // A poison message on purpose: it ends in the event queue's dead-letter queue.
  t = await startTestRuntime({ dayMs: 60_000, expectAlarms: ['WebhookSignatureRejections', 'WebhookEventsDeadLetterQueueNotEmpty'] });
});
afterAll(async () => {
  await t?.close();
});

const secret = () => t.runtime.config.webhookSecret;
/** The webhook event queue's dead-letter queue, as deployed. */
const eventsDeadLetterQueueArn = () => t.runtime.deployment.queues.find((q) => /WebhookEventsDeadLetterQueue/.test(q.name))!.arn;

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
    await t.runtime.sqs.drained();

    expect(response).toEqual({ status: 200, body: { received: true, id: event.id } });
    expect(await t.runtime.store.getCase(event.data.object.id)).toBeUndefined();
    // Acknowledged by the router, loudly, rather than sent round until the dead-letter queue.
    expect(t.logs.some((l) => l.functionName === 'route-events' && /signed event is unusable/.test(l.line) && /amount_due/.test(l.line))).toBe(true);
    expect(t.runtime.sqs.snapshot(eventsDeadLetterQueueArn()).waiting).toBe(0);
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

    const response = await deliver(t.runtime, payload);

    expect(response).toMatchObject({ status: 200, body: { action: 'ignored', reason: expect.stringMatching(/livemode/) } });
    expect(await t.runtime.store.getCase(event.data.object.id)).toBeUndefined();
  });

  it('acknowledges an event type it does not handle, and starts nothing', async () => {
    const event = stripeFixture('event');
    event.id = 'evt_unhandled1';
    const payload = JSON.stringify(event);

    const response = await deliver(t.runtime, payload);

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

  it('opens one case when the same event arrives 10 times at once: the queue keeps one copy of the event id', async () => {
    const payload = await paymentFailedEvent();
    const invoice = JSON.parse(payload).data.object;

    const responses = await Promise.all(Array.from({ length: 10 }, () => post(payload, sign(payload))));
    await waitFor(async () => (await subjectsTo(t.runtime, invoice.customer_email)).length > 0, 5000, 'notice 1');

    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect((await t.runtime.store.listCases()).filter((c) => c.invoiceId === invoice.id)).toHaveLength(1);
    expect(await subjectsTo(t.runtime, invoice.customer_email)).toEqual(["We haven't been able to take payment"]);
  });

  it('answers 200 at once while Step Functions is throttled; the queue hands the event over again and it opens the case', async () => {
    const payload = await paymentFailedEvent();
    const invoice = JSON.parse(payload).data.object;
    // As many as the SDK's own three attempts, so the throttle fails the router's first go.
    t.runtime.stepFunctions.injectFault({ action: 'StartExecution', error: 'ThrottlingException', count: 3 });

    const during = await deliver(t.runtime, payload);
    await waitFor(async () => (await subjectsTo(t.runtime, invoice.customer_email)).length > 0, 5000, 'notice 1');

    expect(during).toMatchObject({ status: 200, body: { received: true, action: 'case_opened' } });
    expect(t.logs.some((l) => l.functionName === 'route-events' && /event processing failed; handed over again later/.test(l.line))).toBe(true);
    expect((await t.runtime.store.getCase(invoice.id))?.executionArn).toMatch(new RegExp(`:${invoice.id}$`));
    expect(await subjectsTo(t.runtime, invoice.customer_email)).toEqual(["We haven't been able to take payment"]);
  });

  it('closes the case within a second of the invoice.paid delivery, routed behind the queue', async () => {
    const failed = await paymentFailedEvent();
    const invoice = JSON.parse(failed).data.object;
    await deliver(t.runtime, failed);
    await withDeliveriesPaused(t.runtime, () => t.stripe.invoices.pay(invoice.id, { paid_out_of_band: true }));
    const paid = await latestEvent(t.stripe, 'invoice.paid', invoice.id);

    const response = await post(paid, sign(paid));
    const delivered = Date.now();
    await waitFor(async () => (await t.runtime.store.getCase(invoice.id))?.status === 'recovered', 1000, 'the case closed');

    expect(response).toEqual({ status: 200, body: { received: true, id: JSON.parse(paid).id } });
    expect(Date.now() - delivered).toBeLessThan(1000 * 3);
  });

  it('moves a queued message that fails every routing to the dead-letter queue after 10 receives, alarmed, and routes another customer meanwhile', async () => {
    const payload = await paymentFailedEvent();
    const invoice = JSON.parse(payload).data.object;
    const queue = t.runtime.deployment.queues.find((q) => /WebhookEventsQueue/.test(q.name))!;
    const operator = new SQSClient({ endpoint: t.runtime.sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, useQueueUrlAsEndpoint: false });
    // Not a Stripe event: only someone with the queue's credentials could put it there.
    await operator.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{"not":"an event"}', MessageGroupId: 'cus_poison', MessageDeduplicationId: 'poison-1' }));

    const routed = await deliver(t.runtime, payload);
    await t.runtime.sqs.drained();
    operator.destroy();

    expect(routed).toMatchObject({ status: 200, body: { action: 'case_opened' } });
    expect(t.runtime.sqs.snapshot(eventsDeadLetterQueueArn()).bodies).toEqual(['{"not":"an event"}']);
    expect(t.logs.filter((l) => l.functionName === 'route-events' && /queued message is not a Stripe event/.test(l.line))).toHaveLength(10);
    expect(t.runtime.alarms().find((a) => a.id === 'WebhookEventsDeadLetterQueueNotEmpty')?.state).toBe('ALARM');
    expect(await t.runtime.store.getCase(invoice.id)).toMatchObject({ status: 'open' });
  });
});
