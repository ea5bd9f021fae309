// What Stripe sends before a renewal and when a card changes by itself: invoice.upcoming the
// configured days before each renewal, a card's expiry, and the card account updater.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { advance, DAY, startHarness, subscribedCustomer, T0, type Harness } from './helpers.ts';

async function upcomingFor(stripe: Stripe, subscriptionId: string): Promise<Stripe.Event[]> {
  const events = await stripe.events.list({ type: 'invoice.upcoming', limit: 100 });
  return events.data.filter((e) => (e.data.object as Stripe.Invoice).parent?.subscription_details?.subscription === subscriptionId);
}

describe('invoice.upcoming', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('is sent 3 days before the renewal, once, as a preview invoice without an id', async () => {
    const { clock, subscription } = await subscribedCustomer(h.stripe);
    const periodEnd = subscription.items.data[0]!.current_period_end;

    await advance(h.stripe, clock.id, periodEnd - 3 * DAY - 60);
    const before = await upcomingFor(h.stripe, subscription.id);
    await advance(h.stripe, clock.id, periodEnd - 2 * DAY);
    await advance(h.stripe, clock.id, periodEnd - DAY);
    const events = await upcomingFor(h.stripe, subscription.id);

    expect(before).toHaveLength(0);
    expect(events).toHaveLength(1);
    const invoice = events[0]!.data.object as Stripe.Invoice;
    expect(invoice).not.toHaveProperty('id');
    expect(invoice).toMatchObject({
      object: 'invoice',
      billing_reason: 'upcoming',
      status: 'draft',
      amount_due: 2500,
      currency: 'usd',
      customer_email: 'ada@example.com',
      next_payment_attempt: periodEnd,
      collection_method: 'charge_automatically',
    });
    expect(invoice.lines.data[0]?.period.start).toBe(periodEnd);
    expect(events[0]!.created).toBe(periodEnd - 3 * DAY);
  });

  it('is sent again before the next renewal, and at the configured number of days', async () => {
    const seven = await startHarness({ upcomingInvoiceDays: 7 });
    try {
      const { clock, subscription } = await subscribedCustomer(seven.stripe);
      const periodEnd = subscription.items.data[0]!.current_period_end;

      await advance(seven.stripe, clock.id, periodEnd + 40 * DAY);
      const events = await upcomingFor(seven.stripe, subscription.id);

      expect(events.map((e) => e.created).sort()).toEqual([periodEnd - 7 * DAY, expect.any(Number)]);
      expect(events.map((e) => (e.data.object as Stripe.Invoice).next_payment_attempt).sort()).toEqual([
        periodEnd,
        (await seven.stripe.subscriptions.retrieve(subscription.id)).items.data[0]!.current_period_start,
      ]);
    } finally {
      await seven.close();
    }
  });

  it('is not sent for a subscription that cancels at the period end', async () => {
    const { clock, subscription } = await subscribedCustomer(h.stripe, 'pm_card_visa', { cancel_at_period_end: true });

    await advance(h.stripe, clock.id, subscription.items.data[0]!.current_period_end - DAY);

    expect(await upcomingFor(h.stripe, subscription.id)).toHaveLength(0);
  });
});

describe('card expiry', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('gives test cards an expiry, which payment_methods.update can set', async () => {
    const { customer } = await subscribedCustomer(h.stripe);
    const attached = await h.stripe.paymentMethods.retrieve(customer.invoice_settings.default_payment_method as string);

    expect(attached.card?.exp_year).toBeGreaterThanOrEqual(new Date(T0 * 1000).getUTCFullYear());
    const updated = await h.stripe.paymentMethods.update(attached.id, { card: { exp_month: 2, exp_year: 2026 } });

    expect(updated.card).toMatchObject({ exp_month: 2, exp_year: 2026 });
    expect((await h.stripe.paymentMethods.retrieve(attached.id)).card).toMatchObject({ exp_month: 2, exp_year: 2026 });
  });

  it('sends payment_method.automatically_updated when the card account updater renews a card', async () => {
    const { customer } = await subscribedCustomer(h.stripe);
    const pmId = customer.invoice_settings.default_payment_method as string;

    const answer = await fetch(`${h.sandbox.url}/_sandbox/payment_methods/${pmId}/automatically_update`, {
      method: 'POST',
      body: JSON.stringify({ exp_month: 9, exp_year: 2031 }),
    });
    await h.sandbox.idle();

    expect(answer.status).toBe(200);
    const delivered = h.receiver.deliveries.map((d) => d.event).filter((e) => e.type === 'payment_method.automatically_updated');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.data.object).toMatchObject({ id: pmId, customer: customer.id, card: { exp_month: 9, exp_year: 2031 } });
    expect((await fetch(`${h.sandbox.url}/_sandbox/payment_methods/pm_missing/automatically_update`, { method: 'POST', body: '{"exp_month":1,"exp_year":2030}' })).status).toBe(404);
  });
});
