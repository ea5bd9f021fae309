import { afterEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { startStripeSandbox, type StripeSandbox } from '../../local/stripe-sandbox/index.ts';
import { startReceiver, stripeFor, WEBHOOK_SECRET, type Receiver } from './helpers.ts';

describe('stripe sandbox webhook delivery', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(retry = { attempts: 5, initialDelayMs: 10 }): Promise<{ sandbox: StripeSandbox; stripe: Stripe; receiver: Receiver; logs: string[] }> {
    const receiver = await startReceiver();
    const logs: string[] = [];
    const sandbox = await startStripeSandbox({
      webhook: { url: receiver.url, secret: WEBHOOK_SECRET },
      webhookRetry: retry,
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
    const sandbox = await startStripeSandbox({ webhook: { url: receiver.url, secret: WEBHOOK_SECRET, enabledEvents: ['customer.updated'] } });
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

  it('delivers in creation order, one at a time, even while retrying', async () => {
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
    const sandbox = await startStripeSandbox();
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
      log: (l) => logs.push(l),
    });
    cleanups.push(() => sandbox.close());
    await stripeFor(sandbox).customers.create({});
    await sandbox.idle();
    expect(logs.filter((l) => /attempt \d\/2 failed/.test(l))).toHaveLength(2);
    expect(logs.some((l) => l.includes('given up'))).toBe(true);
  });
});
