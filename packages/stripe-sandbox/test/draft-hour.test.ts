// The renewal's draft hour. At the period end Stripe creates the renewal invoice as a draft and
// finalizes it and attempts payment about an hour later: "Stripe waits until one hour after the last
// webhook was successfully sent (or the last webhook timed out after failing). If you … have no
// webhooks configured, Stripe waits one hour after creation to finalize the invoice" (the invoice
// object, https://docs.stripe.com/api/invoices/object; the one hour of
// https://docs.stripe.com/billing/subscriptions/webhooks#successful-invoice-finalization). The draft
// says when: `automatically_finalizes_at` ("the time when this invoice is currently scheduled to be
// automatically finalized") and `next_payment_attempt` ("the time at which payment will next be
// attempted").
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type Stripe from 'stripe';
import { advance, DAY, startHarness, subscribedCustomer, T0, type Harness } from './helpers.ts';

const PERIOD_END = T0 + 31 * DAY;

describe('stripe sandbox renewal draft hour', () => {
  let h: Harness;
  let stripe: Stripe;

  beforeAll(async () => {
    h = await startHarness({ subscriptionAfterRetries: 'past_due' });
    stripe = h.stripe;
  });
  afterAll(() => h.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  const eventsAbout = async (id: string) =>
    (await stripe.events.list({ limit: 100 })).data.filter((e) => (e.data.object as { id?: string }).id === id).reverse();

  it('holds the renewal as a draft for an hour, saying when it finalizes and is attempted, then finalizes and charges it', async () => {
    const { clock, customer, subscription } = await subscribedCustomer(stripe, 'pm_card_chargeCustomerFail', { payment_behavior: 'default_incomplete' });
    await stripe.invoices.pay(subscription.latest_invoice as string, { payment_method: 'pm_card_visa' });

    await advance(stripe, clock.id, PERIOD_END + 30 * 60);
    const sub = await stripe.subscriptions.retrieve(subscription.id);
    expect(sub).toMatchObject({ status: 'active' });
    expect(sub.items.data[0]!.current_period_start).toBe(PERIOD_END);
    const draft = await stripe.invoices.retrieve(sub.latest_invoice as string);
    expect(draft).toMatchObject({
      status: 'draft',
      billing_reason: 'subscription_cycle',
      created: PERIOD_END,
      auto_advance: true,
      automatically_finalizes_at: PERIOD_END + 3600,
      next_payment_attempt: PERIOD_END + 3600,
      attempted: false,
      attempt_count: 0,
      hosted_invoice_url: null,
    });
    expect((await stripe.customers.retrieve(customer.id) as Stripe.Customer).delinquent).toBe(false);
    expect((await eventsAbout(draft.id)).map((e) => e.type)).toEqual(['invoice.created']);

    await advance(stripe, clock.id, PERIOD_END + 3600);
    const attempted = await stripe.invoices.retrieve(draft.id);
    expect(attempted).toMatchObject({
      status: 'open',
      automatically_finalizes_at: null,
      attempt_count: 1,
      next_payment_attempt: null,
      status_transitions: { finalized_at: PERIOD_END + 3600 },
    });
    const events = await eventsAbout(draft.id);
    expect(events.map((e) => [e.type, e.created])).toEqual([
      ['invoice.created', PERIOD_END],
      ['invoice.finalized', PERIOD_END + 3600],
      ['invoice.payment_failed', PERIOD_END + 3600],
    ]);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due');
  });

  it('a draft finalized by hand is still attempted when its next_payment_attempt comes', async () => {
    const { clock, subscription } = await subscribedCustomer(stripe, 'pm_card_visa');
    await advance(stripe, clock.id, PERIOD_END + 60);
    const draftId = (await stripe.subscriptions.retrieve(subscription.id)).latest_invoice as string;
    const finalized = await stripe.invoices.finalizeInvoice(draftId);
    expect(finalized).toMatchObject({ status: 'open', automatically_finalizes_at: null, next_payment_attempt: PERIOD_END + 3600, attempt_count: 0 });
    await advance(stripe, clock.id, PERIOD_END + 3600 + 60);
    expect(await stripe.invoices.retrieve(draftId)).toMatchObject({ status: 'paid', attempt_count: 1 });
  });

  it('keeps the draft hour in real time for a subscription without a test clock', async () => {
    const customer = await stripe.customers.create({
      email: 'real@example.com',
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'day' }, product_data: { name: 'Daily' } });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    const periodEnd = subscription.items.data[0]!.current_period_end;

    // Only Date is faked: the sandbox's real-time ticker keeps running on real timers.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((periodEnd + 60) * 1000);
    await expect.poll(async () => (await stripe.invoices.list({ subscription: subscription.id, limit: 1 })).data[0]!.billing_reason, { timeout: 5000 }).toBe('subscription_cycle');
    const draft = (await stripe.invoices.list({ subscription: subscription.id, limit: 1 })).data[0]!;
    expect(draft).toMatchObject({ status: 'draft', automatically_finalizes_at: periodEnd + 3600, next_payment_attempt: periodEnd + 3600 });

    vi.setSystemTime((periodEnd + 3600 + 60) * 1000);
    await expect.poll(async () => (await stripe.invoices.retrieve(draft.id)).status, { timeout: 5000 }).toBe('paid');
  });
});
