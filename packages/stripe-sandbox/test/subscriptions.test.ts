import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { advance, catchError, DAY, lastEventFor, startHarness, subscribedCustomer, T0, type Harness } from './helpers.ts';

describe('stripe sandbox subscriptions', () => {
  let h: Harness;
  let stripe: Stripe;

  beforeAll(async () => {
    h = await startHarness();
    stripe = h.stripe;
  });
  afterAll(() => h.close());

  it('cancels immediately: canceled, canceled_at/ended_at set, customer.subscription.deleted emitted', async () => {
    const { subscription } = await subscribedCustomer(stripe);
    const canceled = await stripe.subscriptions.cancel(subscription.id);
    expect(canceled).toMatchObject({ status: 'canceled', canceled_at: T0, ended_at: T0 });
    expect(canceled.cancellation_details?.reason).toBe('cancellation_requested');
    const event = await lastEventFor(stripe, 'customer.subscription.deleted', subscription.id);
    expect(event.created).toBe(T0);
    const err = await catchError(stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true }));
    expect(err.statusCode).toBe(400);
    const withMetadata = await stripe.subscriptions.update(subscription.id, { metadata: { note: 'churned' } });
    expect(withMetadata.metadata).toEqual({ note: 'churned' });
  });

  it('sets and clears pause_collection with previous_attributes', async () => {
    const { subscription } = await subscribedCustomer(stripe);
    const paused = await stripe.subscriptions.update(subscription.id, { pause_collection: { behavior: 'mark_uncollectible' } });
    expect(paused.pause_collection).toEqual({ behavior: 'mark_uncollectible', resumes_at: null });
    let event = await lastEventFor(stripe, 'customer.subscription.updated', subscription.id);
    expect(event.data.previous_attributes).toEqual({ pause_collection: null });

    const resumed = await stripe.subscriptions.update(subscription.id, { pause_collection: '' });
    expect(resumed.pause_collection).toBeNull();
    event = await lastEventFor(stripe, 'customer.subscription.updated', subscription.id);
    expect(event.data.previous_attributes).toEqual({ pause_collection: { behavior: 'mark_uncollectible', resumes_at: null } });
  });

  it('marks renewal invoices uncollectible while collection is paused with mark_uncollectible', async () => {
    const { clock, subscription } = await subscribedCustomer(stripe);
    await stripe.subscriptions.update(subscription.id, { pause_collection: { behavior: 'mark_uncollectible' } });
    await advance(stripe, clock.id, T0 + 31 * DAY + 10);
    const sub = await stripe.subscriptions.retrieve(subscription.id, { expand: ['latest_invoice'] });
    expect(sub.status).toBe('active');
    expect((sub.latest_invoice as Stripe.Invoice).status).toBe('uncollectible');
    expect((sub.latest_invoice as Stripe.Invoice).attempt_count).toBe(0);
  });

  it('cancels at period end when cancel_at_period_end is set, and not before', async () => {
    const { clock, subscription } = await subscribedCustomer(stripe);
    const updated = await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    const periodEnd = updated.items.data[0]!.current_period_end;
    expect(updated).toMatchObject({ status: 'active', cancel_at_period_end: true, cancel_at: periodEnd, canceled_at: T0 });
    const event = await lastEventFor(stripe, 'customer.subscription.updated', subscription.id);
    expect(event.data.previous_attributes).toEqual({ cancel_at: null, cancel_at_period_end: false, canceled_at: null });

    await advance(stripe, clock.id, periodEnd - 60);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    await advance(stripe, clock.id, periodEnd + 60);
    const ended = await stripe.subscriptions.retrieve(subscription.id);
    expect(ended).toMatchObject({ status: 'canceled', ended_at: periodEnd, canceled_at: T0 });
    const invoices = await stripe.invoices.list({ subscription: subscription.id });
    expect(invoices.data).toHaveLength(1);
  });

  it('renews once per period crossed in a single advance', async () => {
    const { clock, subscription } = await subscribedCustomer(stripe);
    await advance(stripe, clock.id, T0 + 95 * DAY);
    const invoices = await stripe.invoices.list({ subscription: subscription.id });
    expect(invoices.data.map((i) => i.billing_reason)).toEqual(['subscription_cycle', 'subscription_cycle', 'subscription_cycle', 'subscription_create']);
    expect(invoices.data.every((i) => i.status === 'paid')).toBe(true);
    const sub = await stripe.subscriptions.retrieve(subscription.id);
    expect(sub.items.data[0]!.current_period_start).toBe(Date.UTC(2026, 3, 1) / 1000);
    expect(sub.items.data[0]!.current_period_end).toBe(Date.UTC(2026, 4, 1) / 1000);
    const clockNow = await stripe.testHelpers.testClocks.retrieve(clock.id);
    expect(clockNow).toMatchObject({ status: 'ready', frozen_time: T0 + 95 * DAY });
  });

  it('lists subscriptions by customer and status, excluding canceled ones by default', async () => {
    const { customer, subscription, price } = await subscribedCustomer(stripe);
    const second = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id, quantity: 2 }] });
    await stripe.subscriptions.cancel(second.id);
    const open = await stripe.subscriptions.list({ customer: customer.id });
    expect(open.data.map((s) => s.id)).toEqual([subscription.id]);
    const canceled = await stripe.subscriptions.list({ customer: customer.id, status: 'canceled' });
    expect(canceled.data.map((s) => s.id)).toEqual([second.id]);
    const all = await stripe.subscriptions.list({ customer: customer.id, status: 'all', limit: 1 });
    expect(all.has_more).toBe(true);
    const next = await stripe.subscriptions.list({ customer: customer.id, status: 'all', limit: 1, starting_after: all.data[0]!.id });
    expect(next.data).toHaveLength(1);
    expect(next.has_more).toBe(false);
  });

  it('refuses to start a subscription with error_if_incomplete when the card declines', async () => {
    const clockless = await stripe.customers.create({
      payment_method: 'pm_card_radarBlock',
      invoice_settings: { default_payment_method: 'pm_card_radarBlock' },
    });
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 100, recurring: { interval: 'week' }, product_data: { name: 'Weekly' } });
    const err = await catchError(
      stripe.subscriptions.create({ customer: clockless.id, items: [{ price: price.id }], payment_behavior: 'error_if_incomplete' }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err.decline_code).toBe('fraudulent');
    expect((await stripe.subscriptions.list({ customer: clockless.id, status: 'all' })).data).toHaveLength(0);
  });

  // Stripe's code for a first payment that needs 3-D Secure under error_if_incomplete
  // (docs.stripe.com/error-codes; docs.stripe.com/billing/subscriptions/overview#requires-action).
  it('refuses to start a subscription with error_if_incomplete when the card needs 3-D Secure', async () => {
    const clockless = await stripe.customers.create({
      payment_method: 'pm_card_authenticationRequired',
      invoice_settings: { default_payment_method: 'pm_card_authenticationRequired' },
    });
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 100, recurring: { interval: 'week' }, product_data: { name: 'Weekly' } });
    const err = await catchError(
      stripe.subscriptions.create({ customer: clockless.id, items: [{ price: price.id }], payment_behavior: 'error_if_incomplete' }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({ statusCode: 402, code: 'subscription_payment_intent_requires_action' });
    expect(err.message).toMatch(/^Payment for this subscription requires additional user action before it can be completed successfully\./);
    expect((await stripe.subscriptions.list({ customer: clockless.id, status: 'all' })).data).toHaveLength(0);
  });

  it('requires a payment method to charge the first invoice', async () => {
    const customer = await stripe.customers.create({});
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 100, recurring: { interval: 'month' }, product_data: { name: 'X' } });
    const err = await catchError(stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] }));
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/no attached payment source or default payment method/);
  });

  it('starts trials with a zero invoice and bills when the trial ends', async () => {
    const { clock, subscription } = await subscribedCustomer(stripe, 'pm_card_visa', { trial_period_days: 14 });
    expect(subscription).toMatchObject({ status: 'trialing', trial_start: T0, trial_end: T0 + 14 * DAY });
    await advance(stripe, clock.id, T0 + 14 * DAY + 3600);
    const sub = await stripe.subscriptions.retrieve(subscription.id, { expand: ['latest_invoice'] });
    expect(sub.status).toBe('active');
    expect((sub.latest_invoice as Stripe.Invoice)).toMatchObject({ status: 'paid', amount_paid: 2500, billing_reason: 'subscription_cycle' });
  });

  it('expands subscription on invoices through parent.subscription_details', async () => {
    const { subscription } = await subscribedCustomer(stripe);
    const invoice = await stripe.invoices.retrieve(subscription.latest_invoice as string, {
      expand: ['parent.subscription_details.subscription', 'customer', 'payments'],
    });
    expect((invoice.parent!.subscription_details!.subscription as Stripe.Subscription).id).toBe(subscription.id);
    expect((invoice.customer as Stripe.Customer).object).toBe('customer');
    expect(invoice.payments?.data[0]?.payment.type).toBe('payment_intent');
    const err = await catchError(stripe.invoices.retrieve(invoice.id, { expand: ['payment_intent'] }));
    expect(err.message).toBe('This property cannot be expanded (payment_intent).');
  });
});

describe('stripe sandbox: cancelling a subscription in dunning', () => {
  let h: Harness;
  let stripe: Stripe;

  beforeAll(async () => {
    // Stripe retries on days 1 and 2 after a failure, and leaves the subscription past due after.
    h = await startHarness({ automaticRetryDays: [1, 2], subscriptionAfterRetries: 'past_due' });
    stripe = h.stripe;
  });
  afterAll(() => h.close());

  it("stops automatic collection of a canceled subscription's open invoice, which stays open to pay by hand", async () => {
    const { clock, customer, subscription } = await subscribedCustomer(stripe);
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
    // The renewal at the end of January: finalized after its draft hour, its payment declined.
    await advance(stripe, clock.id, T0 + 31 * DAY + 7200);
    const [renewal] = (await stripe.invoices.list({ subscription: subscription.id, limit: 1 })).data;
    expect(renewal).toMatchObject({ status: 'open', attempt_count: 1 });
    expect(renewal!.next_payment_attempt).not.toBeNull();

    await stripe.subscriptions.cancel(subscription.id);

    expect(await stripe.invoices.retrieve(renewal!.id)).toMatchObject({ status: 'open', auto_advance: false, next_payment_attempt: null });
    const updated = await lastEventFor(stripe, 'invoice.updated', renewal!.id);
    expect(updated.data.previous_attributes).toMatchObject({ auto_advance: true });
    // Stripe's own retry days pass with no attempt; a payment by hand still goes through.
    await advance(stripe, clock.id, T0 + 40 * DAY);
    expect(await stripe.invoices.retrieve(renewal!.id)).toMatchObject({ status: 'open', attempt_count: 1 });
    expect(await stripe.invoices.pay(renewal!.id, { payment_method: 'pm_card_visa' })).toMatchObject({ status: 'paid' });
  });
});
