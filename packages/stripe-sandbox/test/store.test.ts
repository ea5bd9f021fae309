// The store's indexes and idempotency expiry: lookups answered from an index must give what a walk
// over every object would, and a test clock advance must still renew exactly its own subscriptions,
// in time order, however many other objects the store holds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type Stripe from 'stripe';
import { startStripeSandbox } from '../src/index.ts';
import { Store, type IdempotencyRecord } from '../src/store.ts';
import { advance, DAY, startHarness, startReceiver, stripeFor, T0, WEBHOOK_SECRET, type Harness } from './helpers.ts';

const record = (createdMs: number, body = '{}'): IdempotencyRecord => ({ method: 'POST', path: '/v1/customers', paramsHash: 'h', status: 200, body, requestId: 'req_1', createdMs });
const HOUR = 3_600_000;

describe('sandbox store', () => {
  afterEach(() => vi.restoreAllMocks());

  it('expires idempotency records after 24 hours, oldest first, keeping younger ones', () => {
    const store = new Store('http://127.0.0.1:1');
    const t0 = 1_800_000_000_000;
    const now = vi.spyOn(Date, 'now');
    now.mockReturnValue(t0);
    store.saveIdempotency('a', record(t0, 'A'));
    now.mockReturnValue(t0 + HOUR);
    store.saveIdempotency('b', record(t0 + HOUR, 'B'));
    now.mockReturnValue(t0 + 24 * HOUR + 1);
    store.saveIdempotency('c', record(t0 + 24 * HOUR + 1, 'C'));
    expect(Object.keys(store.state.idempotency).sort()).toEqual(['b', 'c']);
    expect(store.idempotencyRecord('b')?.body).toBe('B');
    expect(store.idempotencyRecord('a')).toBeUndefined();
  });

  it('keeps a key saved again after its first record expired, when the old record is swept', () => {
    const store = new Store('http://127.0.0.1:1');
    const t0 = 1_800_000_000_000;
    const now = vi.spyOn(Date, 'now');
    now.mockReturnValue(t0);
    store.saveIdempotency('k', record(t0, 'old'));
    // Read after expiry: gone, so the request runs again and is saved anew under the same key.
    now.mockReturnValue(t0 + 25 * HOUR);
    expect(store.idempotencyRecord('k')).toBeUndefined();
    store.saveIdempotency('k', record(t0 + 25 * HOUR, 'new'));
    now.mockReturnValue(t0 + 26 * HOUR);
    store.saveIdempotency('other', record(t0 + 26 * HOUR));
    expect(store.idempotencyRecord('k')?.body).toBe('new');
  });

  it('answers `where` as a walk over every object would, oldest first, after re-filing and removal', () => {
    const store = new Store('http://127.0.0.1:1');
    const pm = (id: string, customer: string | null) => ({ id, object: 'payment_method', customer }) as unknown as Stripe.PaymentMethod;
    store.put('payment_method', pm('pm_1', null));
    store.put('payment_method', pm('pm_2', 'cus_a'));
    store.put('payment_method', pm('pm_3', 'cus_b'));
    // Attached later: re-filed under its customer, but still listed in creation order.
    store.put('payment_method', pm('pm_1', 'cus_a'));
    const walk = (customer: string | null) => store.all('payment_method').filter((p) => p.customer === customer).map((p) => p.id);
    const where = (customer: string | null) => store.where('payment_method', 'customer', customer).map((p) => p.id);
    for (const c of ['cus_a', 'cus_b', null]) expect(where(c)).toEqual(walk(c));
    expect(where('cus_a')).toEqual(['pm_1', 'pm_2']);
    store.remove('payment_method', 'pm_2');
    expect(where('cus_a')).toEqual(['pm_1']);
    // Changed in place without a put: never answered from its old bucket.
    store.get('payment_method', 'pm_3')!.customer = null;
    expect(where('cus_b')).toEqual([]);
    expect(() => store.where('payment_method', 'type', 'card')).toThrow(/not indexed/);
  });
});

describe('test clock advance with an indexed store', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  async function subscribe(clock: string, price: string, email: string): Promise<Stripe.Subscription> {
    const customer = await h.stripe.customers.create({ email, test_clock: clock, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    return h.stripe.subscriptions.create({ customer: customer.id, items: [{ price }] });
  }

  it('renews exactly the subscriptions on the advanced clock, and not the canceled one', async () => {
    const { stripe } = h;
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Index plan' } });
    const clockA = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const clockB = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const onA = await subscribe(clockA.id, price.id, 'on-a@example.com');
    const onB = await subscribe(clockB.id, price.id, 'on-b@example.com');
    const canceled = await subscribe(clockA.id, price.id, 'canceled@example.com');
    await stripe.subscriptions.cancel(canceled.id);
    const before = new Set((await stripe.events.list({ type: 'invoice.created', limit: 100 })).data.map((e) => e.id));

    await advance(stripe, clockA.id, T0 + 45 * DAY);

    const created = (await stripe.events.list({ type: 'invoice.created', limit: 100 })).data
      .filter((e) => !before.has(e.id))
      .map((e) => e.data.object as Stripe.Invoice);
    expect(created.map((i) => [i.parent?.subscription_details?.subscription, i.billing_reason, i.created])).toEqual([
      [onA.id, 'subscription_cycle', T0 + 31 * DAY],
    ]);
    expect((await stripe.subscriptions.retrieve(onB.id)).items.data[0]!.current_period_start).toBe(T0);
    expect((await stripe.invoices.list({ subscription: canceled.id })).data.map((i) => i.billing_reason)).toEqual(['subscription_create']);
  });

  it("expands an invoice's own payments and what was paid off Stripe, among many invoices", async () => {
    const { stripe } = h;
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 700, recurring: { interval: 'month' }, product_data: { name: 'Paid plan' } });
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const byCard = await subscribe(clock.id, price.id, 'card@example.com');
    const outside = await stripe.customers.create({ email: 'outside@example.com', test_clock: clock.id });
    const draft = await stripe.invoices.create({ customer: outside.id, auto_advance: false, collection_method: 'send_invoice', days_until_due: 7 });
    await stripe.invoiceItems.create({ customer: outside.id, invoice: draft.id, amount: 1200, currency: 'usd' });
    await stripe.invoices.finalizeInvoice(draft.id);
    await stripe.invoices.pay(draft.id, { paid_out_of_band: true });
    const expand = ['payments', 'amount_paid_off_stripe'];
    const card = await stripe.invoices.retrieve(byCard.latest_invoice as string, { expand });
    expect(card.payments?.data.map((p) => [p.invoice, p.status, p.amount_paid])).toEqual([[card.id, 'paid', 700]]);
    expect((card as unknown as { amount_paid_off_stripe: number }).amount_paid_off_stripe).toBe(0);
    const oob = await stripe.invoices.retrieve(draft.id, { expand });
    expect((oob as unknown as { amount_paid_off_stripe: number }).amount_paid_off_stripe).toBe(1200);
    expect((await stripe.invoices.list({ customer: outside.id })).data.map((i) => i.id)).toEqual([draft.id]);
  });

  it('renews several subscriptions on one clock in order of their period ends, whatever order they were made in', async () => {
    const { stripe } = h;
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Order plan' } });
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const early = await subscribe(clock.id, price.id, 'early@example.com');
    await advance(stripe, clock.id, T0 + 3 * DAY);
    const later = await subscribe(clock.id, price.id, 'later@example.com');
    expect((await stripe.subscriptions.list({ test_clock: clock.id, limit: 10 })).data.map((s) => s.id).sort()).toEqual([early.id, later.id].sort());
    const before = new Set((await stripe.events.list({ type: 'invoice.created', limit: 100 })).data.map((e) => e.id));
    await advance(stripe, clock.id, T0 + 70 * DAY);
    const renewals = (await stripe.events.list({ type: 'invoice.created', limit: 100 })).data
      .filter((e) => !before.has(e.id))
      .map((e) => e.data.object as Stripe.Invoice)
      .reverse();
    // Feb 1 (early), Feb 4 (later), Mar 1 (early), Mar 4 (later).
    expect(renewals.map((i) => [i.parent?.subscription_details?.subscription, i.created])).toEqual([
      [early.id, T0 + 31 * DAY],
      [later.id, T0 + 34 * DAY],
      [early.id, T0 + 59 * DAY],
      [later.id, T0 + 62 * DAY],
    ]);
  });
});

describe('the event log', () => {
  it('keeps each event as its object was when it happened, and sends exactly what it lists', async () => {
    const h = await startHarness();
    try {
      const customer = await h.stripe.customers.create({ email: 'then@example.com', name: 'Then' });
      await h.stripe.customers.update(customer.id, { name: 'Now' });
      await h.sandbox.idle();
      const created = (await h.stripe.events.list({ type: 'customer.created', limit: 1 })).data[0]!;
      expect((created.data.object as Stripe.Customer).name).toBe('Then');
      const sent = h.receiver.deliveries.find((d) => d.event.id === created.id)!;
      // Sent while pending; listed afterwards as delivered, otherwise the same JSON.
      expect(sent.event.pending_webhooks).toBe(1);
      expect(created.pending_webhooks).toBe(0);
      expect({ ...JSON.parse(sent.body), pending_webhooks: 0 }).toEqual(JSON.parse(JSON.stringify(created)));
      // Pretty-printed, as Stripe sends it.
      expect(sent.body).toBe(JSON.stringify(JSON.parse(sent.body), null, 2));
    } finally {
      await h.close();
    }
  });

  it('persists events with their delivery state, and lists them after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'stripe-sandbox-events-'));
    const receiver = await startReceiver();
    try {
      const first = await startStripeSandbox({ dataDir, webhook: { url: receiver.url, secret: WEBHOOK_SECRET, enabledEvents: ['customer.updated'] } });
      const a = stripeFor(first);
      const customer = await a.customers.create({ email: 'kept@example.com' });
      await a.customers.update(customer.id, { name: 'Kept' });
      await first.idle();
      await first.close();
      const second = await startStripeSandbox({ dataDir });
      try {
        const b = stripeFor(second);
        const events = (await b.events.list({ limit: 10 })).data;
        expect(events.map((e) => [e.type, e.pending_webhooks])).toEqual([
          ['customer.updated', 0],
          ['customer.created', 0],
        ]);
        expect(await b.events.retrieve(events[0]!.id)).toEqual(JSON.parse(JSON.stringify(events[0])));
        // New events keep coming after the loaded ones.
        await b.customers.update(customer.id, { name: 'Again' });
        expect((await b.events.list({ type: 'customer.updated', limit: 10 })).data.map((e) => (e.data.object as Stripe.Customer).name)).toEqual(['Again', 'Kept']);
      } finally {
        await second.close();
      }
    } finally {
      await receiver.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
