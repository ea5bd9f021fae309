// Delivery to webhook endpoints made through /v1/webhook_endpoints
// (https://docs.stripe.com/api/webhook_endpoints): every enabled endpoint whose `enabled_events`
// match gets each event, signed with its own secret and rendered at its own `api_version`, besides
// the host's own target (`webhook`, `setWebhook`), each independently of the others.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { API_VERSION, startStripeSandbox } from '../src/index.ts';
import { startHarness, startRawReceiver, startReceiver, stripeFor, WEBHOOK_SECRET, type Harness, type RawReceiver, type Receiver } from './helpers.ts';

describe('stripe sandbox delivery to webhook endpoints made through the API', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
    const h = await startHarness(options);
    cleanups.push(() => h.close());
    return h;
  }

  async function raw(status = 200): Promise<RawReceiver> {
    const r = await startRawReceiver(status);
    cleanups.push(() => r.close());
    return r;
  }

  async function receiverFor(secret: string): Promise<Receiver> {
    const r = await startReceiver(secret);
    cleanups.push(() => r.close());
    return r;
  }

  it("sends an event to the endpoint signed with its own secret, and to the host's target as before", async () => {
    const h = await harness();
    const endpoint = await raw();
    const we = await h.stripe.webhookEndpoints.create({ url: endpoint.url, enabled_events: ['customer.created'] });
    const customer = await h.stripe.customers.create({ email: 'api@example.com' });
    await h.sandbox.idle();
    expect(endpoint.requests).toHaveLength(1);
    const { body, signature } = endpoint.requests[0]!;
    const event = h.stripe.webhooks.constructEvent(body, signature, we.secret!);
    expect(event.type).toBe('customer.created');
    expect((event.data.object as Stripe.Customer).id).toBe(customer.id);
    // Not the host's secret.
    expect(() => h.stripe.webhooks.constructEvent(body, signature, WEBHOOK_SECRET)).toThrow(Stripe.errors.StripeSignatureVerificationError);
    // The host's own target still gets the same event, signed with its secret.
    expect(h.receiver.deliveries.map((d) => d.event.id)).toContain(event.id);
    expect(h.receiver.types()).toEqual(['customer.created']);
    expect((await h.stripe.events.retrieve(event.id)).pending_webhooks).toBe(0);
  });

  it("replaces the host's own target at the same URL: each event arrives there once, signed with the endpoint's secret, until the endpoint goes", async () => {
    const h = await harness();
    // The host's receiver checks signatures with the host's secret; the endpoint at its URL has its own.
    const we = await h.stripe.webhookEndpoints.create({ url: `${h.receiver.url}/`, enabled_events: ['customer.created'] });
    const before = h.receiver.deliveries.length;
    const customer = await h.stripe.customers.create({ email: 'same-url@example.com' });
    await h.sandbox.idle();
    // Nothing arrived signed with the host's secret: the one delivery there was the endpoint's (refused by this receiver).
    expect(h.receiver.deliveries.slice(before).map((d) => (d.event.data.object as Stripe.Customer).id)).not.toContain(customer.id);
    const event = (await h.stripe.events.list({ type: 'customer.created', limit: 1 })).data[0]!;
    expect((event.data.object as Stripe.Customer).id).toBe(customer.id);
    expect(event.pending_webhooks).toBeLessThanOrEqual(1);

    await h.stripe.webhookEndpoints.del(we.id);
    const again = await h.stripe.customers.create({ email: 'same-url-again@example.com' });
    await h.sandbox.idle();
    expect(h.receiver.deliveries.map((d) => (d.event.data.object as Stripe.Customer).id)).toContain(again.id);
  });

  it('sends nothing to an endpoint subscribed to other types, nor to a disabled one; re-enabled, it gets new events', async () => {
    const h = await harness();
    const other = await raw();
    const disabled = await raw();
    await h.stripe.webhookEndpoints.create({ url: other.url, enabled_events: ['invoice.paid', 'customer.deleted'] });
    const off = await h.stripe.webhookEndpoints.create({ url: disabled.url, enabled_events: ['*'] });
    await h.stripe.webhookEndpoints.update(off.id, { disabled: true });
    const customer = await h.stripe.customers.create({ email: 'quiet@example.com' });
    await h.stripe.customers.update(customer.id, { name: 'Quiet' });
    await h.sandbox.idle();
    // The host's target got both, so they were sent.
    expect(h.receiver.types()).toEqual(['customer.created', 'customer.updated']);
    expect(other.requests).toHaveLength(0);
    expect(disabled.requests).toHaveLength(0);
    const created = (await h.stripe.events.list({ type: 'customer.created', limit: 1 })).data[0]!;
    expect(created.pending_webhooks).toBe(0);

    await h.stripe.webhookEndpoints.update(off.id, { disabled: false });
    await h.stripe.customers.del(customer.id);
    await h.sandbox.idle();
    expect(other.requests.map((r) => (JSON.parse(r.body) as Stripe.Event).type)).toEqual(['customer.deleted']);
    expect(disabled.requests.map((r) => (JSON.parse(r.body) as Stripe.Event).type)).toEqual(['customer.deleted']);
  });

  it('sends each event to two endpoints, each signed with its own secret, and counts them in pending_webhooks', async () => {
    const h = await harness({ webhookRetry: { attempts: 2, initialDelayMs: 5 } });
    const a = await h.stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:1/placeholder', enabled_events: ['*'] });
    const b = await h.stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:1/placeholder', enabled_events: ['customer.created'] });
    expect(a.secret).not.toBe(b.secret);
    const ra = await receiverFor(a.secret!);
    const rb = await receiverFor(b.secret!);
    await h.stripe.webhookEndpoints.update(a.id, { url: ra.url });
    await h.stripe.webhookEndpoints.update(b.id, { url: rb.url });
    const customer = await h.stripe.customers.create({ email: 'both@example.com' });
    await h.sandbox.idle();
    const event = (await h.stripe.events.list({ type: 'customer.created', limit: 1 })).data[0]!;
    expect((event.data.object as Stripe.Customer).id).toBe(customer.id);
    // Verified with each one's own secret (the receivers refuse anything else).
    expect(ra.deliveries.map((d) => d.event.id)).toEqual([event.id]);
    expect(rb.deliveries.map((d) => d.event.id)).toEqual([event.id]);
    expect(h.receiver.deliveries.map((d) => d.event.id)).toEqual([event.id]);
    expect(event.pending_webhooks).toBe(0);

    // One endpoint failing: the others are served, and the event stays pending for it alone.
    const failing = await raw(500);
    await h.stripe.webhookEndpoints.update(b.id, { url: failing.url });
    await h.stripe.customers.create({ email: 'one-fails@example.com' });
    await h.sandbox.idle();
    const second = (await h.stripe.events.list({ type: 'customer.created', limit: 1 })).data[0]!;
    expect(failing.requests).toHaveLength(2);
    expect(ra.deliveries.map((d) => d.event.id)).toEqual([event.id, second.id]);
    expect(h.receiver.deliveries.map((d) => d.event.id)).toEqual([event.id, second.id]);
    expect(second.pending_webhooks).toBe(1);
  });

  it("renders events at the endpoint's api_version, or the account's default, and records them at the host's", async () => {
    const h = await harness({ defaultApiVersion: '2025-03-31.basil' });
    const pinned = await raw();
    const unpinned = await raw();
    await h.stripe.webhookEndpoints.create({ url: pinned.url, enabled_events: ['*'], api_version: '2024-06-20' });
    await h.stripe.webhookEndpoints.create({ url: unpinned.url, enabled_events: ['*'] });
    h.sandbox.setWebhook({ url: h.receiver.url, secret: WEBHOOK_SECRET, apiVersion: API_VERSION });
    await h.stripe.customers.create({ email: 'versions@example.com' });
    await h.sandbox.idle();
    const version = (r: RawReceiver) => r.requests.map((q) => (JSON.parse(q.body) as Stripe.Event).api_version);
    expect(version(pinned)).toEqual(['2024-06-20']);
    expect(version(unpinned)).toEqual(['2025-03-31.basil']);
    expect(h.receiver.deliveries.map((d) => d.event.api_version)).toEqual([API_VERSION]);
    const [recorded] = (await h.stripe.events.list({ limit: 1 })).data;
    expect(recorded!.api_version).toBe(API_VERSION);
    // Otherwise the same event, pretty-printed as Stripe sends it.
    const sent = JSON.parse(pinned.requests[0]!.body) as Stripe.Event;
    expect(sent.id).toBe(recorded!.id);
    expect(pinned.requests[0]!.body).toBe(JSON.stringify(sent, null, 2));
  });

  it('stops sending to a deleted endpoint, and an updated url gets the next events', async () => {
    const h = await harness();
    const first = await raw();
    const moved = await raw();
    const we = await h.stripe.webhookEndpoints.create({ url: first.url, enabled_events: ['customer.created'] });
    await h.stripe.customers.create({});
    await h.sandbox.idle();
    await h.stripe.webhookEndpoints.update(we.id, { url: moved.url });
    await h.stripe.customers.create({});
    await h.sandbox.idle();
    await h.stripe.webhookEndpoints.del(we.id);
    await h.stripe.customers.create({});
    await h.sandbox.idle();
    expect([first.requests.length, moved.requests.length]).toEqual([1, 1]);
    expect(h.receiver.types()).toEqual(['customer.created', 'customer.created', 'customer.created']);
  });

  it("delivers to each endpoint independently: a failing endpoint's retries do not hold up the others", async () => {
    const h = await harness({ webhookRetry: { attempts: 3, initialDelayMs: 300 } });
    const failing = await raw(500);
    await h.stripe.webhookEndpoints.create({ url: failing.url, enabled_events: ['*'] });
    for (let i = 0; i < 3; i++) await h.stripe.customers.create({ metadata: { i: String(i) } });
    await waitUntil(() => h.receiver.deliveries.length === 3);
    // In ordered mode the failing endpoint is still on its first event.
    expect(new Set(failing.requests.map((r) => (JSON.parse(r.body) as Stripe.Event).id)).size).toBe(1);
    await h.sandbox.idle();
    expect(failing.requests).toHaveLength(9);
  });

  it("as Stripe delivers (the default mode): each endpoint gets every event at least once, and none stays pending", async () => {
    const receiver = await receiverFor(WEBHOOK_SECRET);
    const sandbox = await startStripeSandbox({ webhook: { url: receiver.url, secret: WEBHOOK_SECRET }, delivery: { seed: 7, hourMs: 20 } });
    cleanups.push(() => sandbox.close());
    const stripe = stripeFor(sandbox, { maxNetworkRetries: 0 });
    const we = await stripe.webhookEndpoints.create({ url: 'http://127.0.0.1:1/', enabled_events: ['*'] });
    const endpoint = await receiverFor(we.secret!);
    await stripe.webhookEndpoints.update(we.id, { url: endpoint.url });
    endpoint.failNext(2);
    for (let i = 0; i < 20; i++) await stripe.customers.create({ metadata: { i: String(i) } });
    await sandbox.idle();
    const created = (await stripe.events.list({ limit: 100 })).data.map((e) => e.id);
    expect(created).toHaveLength(20);
    expect(new Set(endpoint.deliveries.map((d) => d.event.id))).toEqual(new Set(created));
    expect(new Set(receiver.deliveries.map((d) => d.event.id))).toEqual(new Set(created));
    for (const id of created) expect((await stripe.events.retrieve(id)).pending_webhooks).toBe(0);
  });

  it('counts an event delivered to an endpoint once however many copies land, so one still failing keeps it pending', async () => {
    const receiver = await receiverFor(WEBHOOK_SECRET);
    const failing = await raw(500);
    const sandbox = await startStripeSandbox({ webhook: { url: receiver.url, secret: WEBHOOK_SECRET }, delivery: { seed: 3, hourMs: 5, duplicateRate: 1 } });
    cleanups.push(() => sandbox.close());
    const stripe = stripeFor(sandbox, { maxNetworkRetries: 0 });
    await stripe.webhookEndpoints.create({ url: failing.url, enabled_events: ['*'] });
    for (let i = 0; i < 3; i++) await stripe.customers.create({});
    await sandbox.idle();
    const events = (await stripe.events.list({ limit: 100 })).data;
    expect(events).toHaveLength(3);
    // Every event reached the host's target twice, and the failing endpoint four times a copy.
    expect(receiver.deliveries).toHaveLength(6);
    expect(failing.requests).toHaveLength(24);
    expect(events.map((e) => e.pending_webhooks)).toEqual([1, 1, 1]);
  });

  it('persists endpoints: after a restart they are listed, and still get events signed with their secret', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stripe-sandbox-we-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const first = await startStripeSandbox({ dataDir, delivery: { mode: 'ordered' } });
    const we = await stripeFor(first).webhookEndpoints.create({ url: 'http://127.0.0.1:1/', enabled_events: ['customer.created'], metadata: { k: 'v' } });
    const off = await stripeFor(first).webhookEndpoints.create({ url: 'http://127.0.0.1:1/', enabled_events: ['*'] });
    await stripeFor(first).webhookEndpoints.update(off.id, { disabled: true });
    await first.close();

    const second = await startStripeSandbox({ dataDir, delivery: { mode: 'ordered' } });
    cleanups.push(() => second.close());
    const stripe = stripeFor(second);
    const listed = await stripe.webhookEndpoints.list();
    expect(listed.data.map((e) => [e.id, e.status])).toEqual([
      [off.id, 'disabled'],
      [we.id, 'enabled'],
    ]);
    expect((await stripe.webhookEndpoints.retrieve(we.id)).metadata).toEqual({ k: 'v' });
    const endpoint = await receiverFor(we.secret!);
    const disabled = await raw();
    await stripe.webhookEndpoints.update(we.id, { url: endpoint.url });
    await stripe.webhookEndpoints.update(off.id, { url: disabled.url });
    await stripe.customers.create({ email: 'after-restart@example.com' });
    await second.idle();
    expect(endpoint.types()).toEqual(['customer.created']);
    expect(disabled.requests).toHaveLength(0);
  });
});

async function waitUntil(probe: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
