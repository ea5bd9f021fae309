import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { startStripeSandbox } from '../src/index.ts';
import { advance, DAY, stripeFor, subscribedCustomer, T0 } from './helpers.ts';

describe('stripe sandbox persistence', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stripe-sandbox-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('saves state to <dataDir>/stripe-sandbox.json and restores it on the next start, on another port', async () => {
    const first = await startStripeSandbox({ dataDir });
    const a = stripeFor(first);
    const { clock, customer, subscription } = await subscribedCustomer(a, 'pm_card_visa');
    await a.invoices.pay((await a.invoices.create({ customer: customer.id, auto_advance: false })).id).catch(() => undefined);
    await first.close();
    const saved = JSON.parse(readFileSync(join(dataDir, 'stripe-sandbox.json'), 'utf8')) as { objects: { customer: Record<string, unknown> } };
    expect(Object.keys(saved.objects.customer)).toContain(customer.id);

    const second = await startStripeSandbox({ dataDir });
    try {
      expect(second.port).not.toBe(first.port);
      const b = stripeFor(second);
      const sub = await b.subscriptions.retrieve(subscription.id, { expand: ['latest_invoice'] });
      expect(sub.status).toBe('active');
      const invoice = sub.latest_invoice as Stripe.Invoice;
      // Hosted URLs follow the sandbox to its new address.
      expect(invoice.hosted_invoice_url).toBe(`${second.url}/i/${invoice.id}`);
      expect((await fetch(invoice.hosted_invoice_url!)).status).toBe(200);
      const events = await b.events.list({ type: 'customer.created', limit: 100 });
      expect(events.data.some((e) => (e.data.object as Stripe.Customer).id === customer.id)).toBe(true);
      // The restored clock keeps driving renewals.
      await advance(b, clock.id, T0 + 31 * DAY + 1);
      const invoices = await b.invoices.list({ subscription: subscription.id });
      expect(invoices.data.map((i) => i.billing_reason)).toEqual(['subscription_cycle', 'subscription_create']);
    } finally {
      await second.close();
    }
  });

  it('restores idempotency records, so a replayed request after a restart does not act twice', async () => {
    const first = await startStripeSandbox({ dataDir });
    const created = await stripeFor(first).customers.create({ email: 'once@example.com' }, { idempotencyKey: 'persisted-key' });
    await first.close();
    const second = await startStripeSandbox({ dataDir });
    try {
      const replay = await stripeFor(second).customers.create({ email: 'once@example.com' }, { idempotencyKey: 'persisted-key' });
      expect(replay.id).toBe(created.id);
      expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    } finally {
      await second.close();
    }
  });
});
