import { afterEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { startStripeSandbox, type DeliveryOptions, type StripeSandbox } from '../src/index.ts';
import { startReceiver, stripeFor, T0, WEBHOOK_SECRET, type Receiver } from './helpers.ts';

describe('stripe sandbox webhook delivery', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** Ordered delivery: these tests check what is sent and how a failure is retried, one event at a time. */
  async function setup(retry = { attempts: 5, initialDelayMs: 10 }): Promise<{ sandbox: StripeSandbox; stripe: Stripe; receiver: Receiver; logs: string[] }> {
    const receiver = await startReceiver();
    const logs: string[] = [];
    const sandbox = await startStripeSandbox({
      webhook: { url: receiver.url, secret: WEBHOOK_SECRET },
      webhookRetry: retry,
      delivery: { mode: 'ordered' },
      log: (l) => logs.push(l),
    });
    cleanups.push(() => receiver.close(), () => sandbox.close());
    return { sandbox, stripe: stripeFor(sandbox, { maxNetworkRetries: 0 }), receiver, logs };
  }

  it('signs each delivery so stripe.webhooks.constructEvent accepts it', async () => {
    const { sandbox, stripe, receiver } = await setup();
    const customer = await stripe.customers.create({ email: 'sig@example.com' });
    await sandbox.idle();
    const delivery = receiver.deliveries.find((d) => d.event.type === 'customer.created')!;
    expect(delivery.headers['stripe-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect((delivery.event.data.object as Stripe.Customer).id).toBe(customer.id);
    expect(delivery.event.request?.id).toBe(customer.lastResponse.requestId);
    expect(delivery.event.request?.idempotency_key).toMatch(/^stripe-node-retry-/);
    expect(() => stripe.webhooks.constructEvent(delivery.body, String(delivery.headers['stripe-signature']), 'whsec_wrong')).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it("sends only the endpoint's enabled event types, and still records and lists every event", async () => {
    const receiver = await startReceiver();
    const sandbox = await startStripeSandbox({
      webhook: { url: receiver.url, secret: WEBHOOK_SECRET, enabledEvents: ['customer.updated'] },
      delivery: { mode: 'ordered' },
    });
    cleanups.push(() => receiver.close(), () => sandbox.close());
    const stripe = stripeFor(sandbox, { maxNetworkRetries: 0 });
    const customer = await stripe.customers.create({ email: 'few@example.com' });
    await stripe.customers.update(customer.id, { name: 'Few' });
    await sandbox.idle();
    expect(receiver.types()).toEqual(['customer.updated']);
    const created = (await stripe.events.list({ type: 'customer.created', limit: 1 })).data[0]!;
    expect((created.data.object as Stripe.Customer).id).toBe(customer.id);
    // Not sent to any endpoint, so nothing is pending for it.
    expect(created.pending_webhooks).toBe(0);
    // `*` is every type again.
    sandbox.setWebhook({ url: receiver.url, secret: WEBHOOK_SECRET, enabledEvents: ['*'] });
    await stripe.customers.del(customer.id);
    await sandbox.idle();
    expect(receiver.types()).toEqual(['customer.updated', 'customer.deleted']);
  });

  it('retries an event after the receiver answers 500 once, then marks it delivered', async () => {
    // A backoff long enough that the event is surely still pending when read back.
    const { sandbox, stripe, receiver } = await setup({ attempts: 5, initialDelayMs: 300 });
    receiver.failNext(1);
    const customer = await stripe.customers.create({});
    const event = (await stripe.events.list({ type: 'customer.created', limit: 1 })).data[0]!;
    expect(event.pending_webhooks).toBe(1);
    await sandbox.idle();
    const tries = receiver.attempts.filter((a) => a.event.id === event.id);
    expect(tries.map((t) => t.status)).toEqual([500, 200]);
    expect(receiver.deliveries.filter((d) => d.event.id === event.id)).toHaveLength(1);
    expect((await stripe.events.retrieve(event.id)).pending_webhooks).toBe(0);
    expect((event.data.object as Stripe.Customer).id).toBe(customer.id);
  });

  it("in 'ordered' mode, delivers in creation order, one at a time, even while retrying", async () => {
    const { sandbox, stripe, receiver } = await setup();
    receiver.failNext(2);
    for (let i = 0; i < 5; i++) await stripe.customers.create({ metadata: { i: String(i) } });
    await sandbox.idle();
    const created = (await stripe.events.list({ limit: 100 })).data.reverse().map((e) => e.id);
    expect(receiver.deliveries.map((d) => d.event.id)).toEqual(created);
    // The first event absorbed both failures before anything after it was sent.
    expect(receiver.attempts.slice(0, 3).map((a) => a.event.id)).toEqual([created[0], created[0], created[0]]);
  });

  it('gives up after the configured attempts, logs it, keeps pending_webhooks and moves on', async () => {
    const { sandbox, stripe, receiver, logs } = await setup({ attempts: 3, initialDelayMs: 5 });
    receiver.failNext(3);
    await stripe.customers.create({});
    await stripe.customers.create({});
    await sandbox.idle();
    const events = (await stripe.events.list({ type: 'customer.created' })).data.reverse();
    expect(receiver.attempts.filter((a) => a.event.id === events[0]!.id)).toHaveLength(3);
    expect((await stripe.events.retrieve(events[0]!.id)).pending_webhooks).toBe(1);
    expect((await stripe.events.retrieve(events[1]!.id)).pending_webhooks).toBe(0);
    expect(logs.some((l) => l.includes(events[0]!.id) && l.includes('given up'))).toBe(true);
  });

  it('only sends events created after a target is set', async () => {
    const sandbox = await startStripeSandbox({ delivery: { mode: 'ordered' } });
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close(), () => sandbox.close());
    const stripe = stripeFor(sandbox);
    await stripe.customers.create({ email: 'before@example.com' });
    await sandbox.idle();
    expect((await stripe.events.list()).data[0]!.pending_webhooks).toBe(0);
    sandbox.setWebhook({ url: receiver.url, secret: WEBHOOK_SECRET });
    const after = await stripe.customers.create({ email: 'after@example.com' });
    await sandbox.idle();
    expect(receiver.deliveries.map((d) => (d.event.data.object as Stripe.Customer).id)).toEqual([after.id]);
  });

  it('retries connection errors and gives up when nothing listens', async () => {
    const receiver = await startReceiver();
    const deadUrl = receiver.url;
    await receiver.close();
    const logs: string[] = [];
    const sandbox = await startStripeSandbox({
      webhook: { url: deadUrl, secret: WEBHOOK_SECRET },
      webhookRetry: { attempts: 2, initialDelayMs: 5 },
      delivery: { mode: 'ordered' },
      log: (l) => logs.push(l),
    });
    cleanups.push(() => sandbox.close());
    await stripeFor(sandbox).customers.create({});
    await sandbox.idle();
    expect(logs.filter((l) => /attempt \d\/2 failed/.test(l))).toHaveLength(2);
    expect(logs.some((l) => l.includes('given up'))).toBe(true);
  });
});

// Stripe's webhook docs (https://docs.stripe.com/webhooks): events may arrive out of the order
// they were created in (#event-ordering); an endpoint may receive the same event more than once
// (#handle-duplicate-events); a failed delivery is retried with exponential backoff for up to three
// days in live mode and three times over a few hours in a sandbox (#automatic-retries).
describe('stripe sandbox webhook delivery as Stripe delivers (the default)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(delivery: Partial<DeliveryOptions>): Promise<{ sandbox: StripeSandbox; stripe: Stripe; receiver: Receiver; logs: string[] }> {
    const receiver = await startReceiver();
    const logs: string[] = [];
    const sandbox = await startStripeSandbox({ webhook: { url: receiver.url, secret: WEBHOOK_SECRET }, delivery, log: (l) => logs.push(l) });
    cleanups.push(() => receiver.close(), () => sandbox.close());
    return { sandbox, stripe: stripeFor(sandbox, { maxNetworkRetries: 0 }), receiver, logs };
  }

  it('with a fixed seed, delivers events out of creation order and some of them twice, each at least once', async () => {
    const { sandbox, stripe, receiver } = await setup({ seed: 42 });
    for (let i = 0; i < 30; i++) await stripe.customers.create({ metadata: { i: String(i) } });
    await sandbox.idle();
    const created = (await stripe.events.list({ limit: 100 })).data.reverse().map((e) => e.id);
    const arrived = receiver.deliveries.map((d) => d.event.id);
    const firstArrivals = arrived.filter((id, i) => arrived.indexOf(id) === i);
    expect(new Set(arrived)).toEqual(new Set(created));
    expect(firstArrivals).not.toEqual(created);
    expect(arrived.length).toBeGreaterThan(created.length);
    for (const id of created) expect((await stripe.events.retrieve(id)).pending_webhooks).toBe(0);
  });

  it('retries a failing endpoint three times, 1, 2 and 3 Stripe hours apart, then gives up with the event still pending', async () => {
    const hourMs = 40;
    const { sandbox, stripe, receiver, logs } = await setup({ hourMs, duplicateRate: 0 });
    receiver.failNext(4);
    const started = Date.now();
    await stripe.customers.create({});
    await sandbox.idle();
    const event = (await stripe.events.list({ type: 'customer.created', limit: 1 })).data[0]!;
    const tries = receiver.attempts.filter((a) => a.event.id === event.id);
    expect(tries.map((t) => t.status)).toEqual([500, 500, 500, 500]);
    const gaps = tries.slice(1).map((t, i) => t.at - tries[i]!.at);
    // Timers fire no earlier than asked; a busy machine may make them late, never early.
    expect(gaps[0]).toBeGreaterThanOrEqual(1 * hourMs - 2);
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * hourMs - 2);
    expect(gaps[2]).toBeGreaterThanOrEqual(3 * hourMs - 2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(6 * hourMs - 2);
    expect(logs.some((l) => l.includes(event.id) && l.includes('given up after 4 attempts'))).toBe(true);
    expect((await stripe.events.retrieve(event.id)).pending_webhooks).toBe(1);
  });

  it("retries on Stripe's hours, not on the test clock: a frozen clock stays frozen and the event keeps its time", async () => {
    const { sandbox, stripe, receiver } = await setup({ hourMs: 20, duplicateRate: 0 });
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    await sandbox.idle();
    receiver.failNext(2);
    const customer = await stripe.customers.create({ test_clock: clock.id });
    await sandbox.idle();
    const tries = receiver.attempts.filter((a) => (a.event.data.object as Stripe.Customer).id === customer.id);
    expect(tries.map((t) => t.status)).toEqual([500, 500, 200]);
    expect(tries.map((t) => t.event.created)).toEqual([T0, T0, T0]);
    expect((await stripe.testHelpers.testClocks.retrieve(clock.id)).frozen_time).toBe(T0);
  });

  it('succeeds on a retry and marks the event delivered', async () => {
    const { sandbox, stripe, receiver } = await setup({ hourMs: 20, duplicateRate: 0 });
    receiver.failNext(1);
    await stripe.customers.create({});
    const event = (await stripe.events.list({ type: 'customer.created', limit: 1 })).data[0]!;
    expect(event.pending_webhooks).toBe(1);
    await sandbox.idle();
    expect(receiver.attempts.filter((a) => a.event.id === event.id).map((a) => a.status)).toEqual([500, 200]);
    expect((await stripe.events.retrieve(event.id)).pending_webhooks).toBe(0);
  });

  it('abandons what is scheduled for retry when the endpoint is removed, and idle() resolves', async () => {
    const { sandbox, stripe, receiver } = await setup({ hourMs: 60_000, duplicateRate: 0 });
    receiver.failNext(1);
    await stripe.customers.create({});
    await waitUntil(() => receiver.attempts.length === 1);
    sandbox.setWebhook(undefined);
    await sandbox.idle();
    expect(receiver.attempts).toHaveLength(1);
  });

  it("in 'ordered' mode, delivers each event once, in creation order", async () => {
    const { sandbox, stripe, receiver } = await setup({ mode: 'ordered', seed: 42 });
    for (let i = 0; i < 30; i++) await stripe.customers.create({ metadata: { i: String(i) } });
    await sandbox.idle();
    const created = (await stripe.events.list({ limit: 100 })).data.reverse().map((e) => e.id);
    expect(receiver.deliveries.map((d) => d.event.id)).toEqual(created);
  });
});

async function waitUntil(probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
