import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { advance, catchError, DAY, lastEventFor, startHarness, subscribedCustomer, T0, type Harness } from './helpers.ts';

const subscriptionOf = (inv: Stripe.Invoice) => inv.parent?.subscription_details?.subscription;

describe('stripe sandbox dunning flow', () => {
  let h: Harness;
  let stripe: Stripe;

  beforeAll(async () => {
    // The account as the product's README sets it up: the subscription stays past due after the
    // retries (end-of-retries.test.ts covers Stripe's default, cancel, and the other settings).
    h = await startHarness({ subscriptionAfterRetries: 'past_due' });
    stripe = h.stripe;
  });
  afterAll(() => h.close());

  it('activates a subscription paid with pm_card_visa and pays its first invoice', async () => {
    const { subscription, customer } = await subscribedCustomer(stripe, 'pm_card_visa');
    const sub = await stripe.subscriptions.retrieve(subscription.id, { expand: ['latest_invoice', 'customer'] });
    expect(sub.status).toBe('active');
    expect((sub.customer as Stripe.Customer).id).toBe(customer.id);
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({
      status: 'paid',
      billing_reason: 'subscription_create',
      amount_due: 2500,
      amount_paid: 2500,
      amount_remaining: 0,
      attempt_count: 1,
      attempted: true,
      collection_method: 'charge_automatically',
      customer_email: 'ada@example.com',
      test_clock: sub.test_clock,
    });
    expect(invoice.parent).toEqual({
      quote_details: null,
      subscription_details: { metadata: {}, subscription: sub.id },
      type: 'subscription_details',
    });
    expect((invoice as unknown as { subscription: unknown }).subscription).toBeNull();
    expect(invoice.number).toMatch(/^[0-9A-F]{8}-0001$/);
    expect(invoice.hosted_invoice_url).toBe(`${h.sandbox.url}/i/${invoice.id}`);
    expect(invoice.status_transitions.paid_at).toBe(T0);
    expect(invoice.lines.data).toHaveLength(1);
    expect(invoice.lines.data[0]!.period).toEqual({ start: T0, end: sub.items.data[0]!.current_period_end });
    expect(sub.items.data[0]!.current_period_start).toBe(T0);
    expect(sub.items.data[0]!.current_period_end).toBe(T0 + 31 * DAY);

    const payments = await stripe.invoicePayments.list({ invoice: invoice.id });
    expect(payments.data[0]).toMatchObject({ status: 'paid', amount_paid: 2500 });
    const pi = await stripe.paymentIntents.retrieve(payments.data[0]!.payment.payment_intent as string, { expand: ['latest_charge'] });
    expect(pi.status).toBe('succeeded');
    expect((pi.latest_charge as Stripe.Charge).status).toBe('succeeded');
  });

  it('renews on a test clock with a failing card: open invoice, past_due, signed events in order; fixing the card and paying recovers it', async () => {
    const { clock, customer, subscription } = await subscribedCustomer(stripe, 'pm_card_chargeCustomerFail', {
      payment_behavior: 'default_incomplete',
    });
    // The first invoice is settled with a good card so only the renewal fails.
    const first = await stripe.invoices.retrieve(subscription.latest_invoice as string);
    const visa = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.invoices.pay(first.id, { payment_method: visa.id });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');

    await h.sandbox.idle();
    const mark = h.receiver.deliveries.length;
    const periodEnd = T0 + 31 * DAY;
    await advance(stripe, clock.id, periodEnd + 3600);
    await h.sandbox.idle();

    const sub = await stripe.subscriptions.retrieve(subscription.id);
    expect(sub.status).toBe('past_due');
    const renewal = await stripe.invoices.retrieve(sub.latest_invoice as string);
    expect(renewal).toMatchObject({
      status: 'open',
      billing_reason: 'subscription_cycle',
      collection_method: 'charge_automatically',
      attempted: true,
      attempt_count: 1,
      next_payment_attempt: null,
      amount_due: 2500,
      amount_remaining: 2500,
      created: periodEnd,
    });
    expect(subscriptionOf(renewal)).toBe(sub.id);
    expect(renewal.lines.data[0]!.period).toEqual({ start: periodEnd, end: sub.items.data[0]!.current_period_end });
    expect(sub.items.data[0]!.current_period_start).toBe(periodEnd);
    expect((await stripe.customers.retrieve(customer.id) as Stripe.Customer).delinquent).toBe(true);

    const delivered = h.receiver.deliveries.slice(mark).map((d) => d.event);
    const forRenewal = delivered.filter(
      (e) => (e.data.object as { id?: string }).id === renewal.id || (e.data.object as { id?: string }).id === sub.id,
    );
    expect(forRenewal.map((e) => e.type)).toEqual([
      'invoice.created',
      'customer.subscription.updated',
      'invoice.finalized',
      'customer.subscription.updated',
      'invoice.payment_failed',
    ]);
    const pastDue = forRenewal[3]!;
    expect(pastDue.data.previous_attributes).toEqual({ status: 'active' });
    expect((pastDue.data.object as Stripe.Subscription).status).toBe('past_due');
    const failed = forRenewal[4]!;
    // Stripe attempts the renewal an hour after the draft is created (draft-hour.test.ts).
    expect(failed.created).toBe(periodEnd + 3600);
    expect(failed.api_version).toBe(Stripe.API_VERSION);
    expect((failed.data.object as Stripe.Invoice).attempt_count).toBe(1);
    const delivery = h.receiver.deliveries.find((d) => d.event.id === failed.id)!;
    expect(delivery.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(delivery.headers['user-agent']).toBe('Stripe/1.0 (+https://stripe.com/docs/webhooks)');
    expect(delivery.body).toBe(JSON.stringify(delivery.event, null, 2));
    expect((await stripe.events.retrieve(failed.id)).pending_webhooks).toBe(0);

    // The customer fixes their card; the dunning job retries off-session.
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const paid = await stripe.invoices.pay(renewal.id, { off_session: true });
    // A manual payment after the first attempt does not count: attempt_count stays 1 (attempt-count.test.ts).
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 2500, amount_remaining: 0, attempt_count: 1 });
    expect(paid.status_transitions.paid_at).toBe(periodEnd + 3600);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    expect((await stripe.customers.retrieve(customer.id) as Stripe.Customer).delinquent).toBe(false);
    await h.sandbox.idle();
    const recovered = h.receiver.types().slice(-3);
    expect(recovered).toEqual(['invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated']);
  });

  it('charges once when the same Idempotency-Key pays twice', async () => {
    const { clock, customer, subscription } = await subscribedCustomer(stripe, 'pm_card_visa');
    await stripe.paymentMethods.attach('pm_card_chargeDeclinedInsufficientFunds', { customer: customer.id }).then((pm) =>
      stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } }),
    );
    await advance(stripe, clock.id, T0 + 32 * DAY);
    const sub = await stripe.subscriptions.retrieve(subscription.id);
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: 'pm_card_visa' } });

    const key = `retry-${sub.latest_invoice as string}-1`;
    const first = await stripe.invoices.pay(sub.latest_invoice as string, {}, { idempotencyKey: key });
    const second = await stripe.invoices.pay(sub.latest_invoice as string, {}, { idempotencyKey: key });
    expect(second.id).toBe(first.id);
    expect(second.status).toBe('paid');
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    const charges = await stripe.charges.list({ customer: customer.id, limit: 100 });
    expect(charges.data.filter((c) => c.status === 'succeeded')).toHaveLength(2); // first invoice + this one
    const mismatch = await catchError(stripe.invoices.pay(sub.latest_invoice as string, { off_session: false }, { idempotencyKey: key }));
    expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    const again = await catchError(stripe.invoices.pay(sub.latest_invoice as string));
    expect(again.message).toBe('Invoice is already paid');
    expect(again.statusCode).toBe(400);
  });

  it('replays a decline under the same key instead of charging again', async () => {
    const customer = await stripe.customers.create({
      payment_method: 'pm_card_chargeCustomerFail',
      invoice_settings: { default_payment_method: 'pm_card_chargeCustomerFail' },
    });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 900, currency: 'usd' });
    const invoice = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    const a = await catchError(stripe.invoices.pay(invoice.id, {}, { idempotencyKey: 'same-decline' }));
    const b = await catchError(stripe.invoices.pay(invoice.id, {}, { idempotencyKey: 'same-decline' }));
    expect(b.charge).toBe(a.charge);
    expect((await stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(1);
  });

  it("records why a renewal declined on its payment intent, read from the invoice in one request, and a retry's card error says the same", async () => {
    const { clock, customer, subscription } = await subscribedCustomer(stripe, 'pm_card_visa');
    const stolen = await stripe.paymentMethods.attach('pm_card_visa_chargeDeclinedStolenCard', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: stolen.id } });
    await advance(stripe, clock.id, T0 + 31 * DAY + 3600);
    const latest = (await stripe.subscriptions.retrieve(subscription.id)).latest_invoice as string;

    const invoice = await stripe.invoices.retrieve(latest, { expand: ['payments.data.payment.payment_intent'] });
    const retry = await catchError(stripe.invoices.pay(latest));

    const [payment] = invoice.payments!.data;
    const pi = payment!.payment.payment_intent as Stripe.PaymentIntent;
    expect(payment).toMatchObject({ is_default: true, status: 'open' });
    expect(pi).toMatchObject({ object: 'payment_intent', status: 'requires_payment_method', payment_method: stolen.id });
    expect(pi.last_payment_error).toMatchObject({
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'stolen_card',
      advice_code: 'do_not_try_again',
      network_decline_code: '43',
      charge: pi.latest_charge,
      payment_method: { id: stolen.id, object: 'payment_method' },
    });
    // Stripe leaves out what a decline has no value for.
    expect(pi.last_payment_error).not.toHaveProperty('network_advice_code');
    expect(retry).toMatchObject({ type: 'StripeCardError', code: 'card_declined', decline_code: 'stolen_card', advice_code: 'do_not_try_again', network_decline_code: '43' });
  });

  // The renewal's own off-session attempt on a card that needs 3-D Secure on every charge
  // (docs.stripe.com/testing#authentication-and-setup): the intent waits in requires_action for the
  // customer, with no charge and no error of its own (docs.stripe.com/billing/subscriptions/overview#requires-action);
  // Stripe sends invoice.payment_failed and invoice.payment_action_required
  // (docs.stripe.com/billing/subscriptions/webhooks), and no charge.failed.
  it('leaves a renewal that needs authentication in requires_action, with no charge, and emits invoice.payment_action_required', async () => {
    const { clock, customer, subscription } = await subscribedCustomer(stripe, 'pm_card_visa');
    const pm = await stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer: customer.id });
    await stripe.subscriptions.update(subscription.id, { default_payment_method: pm.id });
    await advance(stripe, clock.id, T0 + 31 * DAY + 3600);
    const sub = await stripe.subscriptions.retrieve(subscription.id);
    expect(sub.status).toBe('past_due');
    const payments = await stripe.invoicePayments.list({ invoice: sub.latest_invoice as string });
    const pi = await stripe.paymentIntents.retrieve(payments.data[0]!.payment.payment_intent as string);
    expect(pi).toMatchObject({ status: 'requires_action', last_payment_error: null, latest_charge: null, payment_method: pm.id });
    expect((await stripe.charges.list({ payment_intent: pi.id })).data).toHaveLength(0);
    await h.sandbox.idle();
    const events = h.receiver.deliveries.map((d) => d.event);
    const types = events.filter((e) => (e.data.object as { id?: string }).id === sub.latest_invoice).map((e) => e.type);
    expect(types).toContain('invoice.payment_failed');
    expect(types.at(-1)).toBe('invoice.payment_action_required');
    expect(events.filter((e) => (e.data.object as { id?: string }).id === pi.id).map((e) => e.type)).toContain('payment_intent.requires_action');
    expect(events.filter((e) => e.type === 'charge.failed' && (e.data.object as Stripe.Charge).payment_intent === pi.id)).toHaveLength(0);
  });

  it('voids an open invoice and marks another uncollectible, returning the subscription to active', async () => {
    const { clock, customer, subscription } = await subscribedCustomer(stripe, 'pm_card_visa');
    const bad = await stripe.paymentMethods.attach('pm_card_chargeDeclinedExpiredCard', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: bad.id } });

    await advance(stripe, clock.id, T0 + 31 * DAY + 3600);
    let sub = await stripe.subscriptions.retrieve(subscription.id);
    expect(sub.status).toBe('past_due');
    const voided = await stripe.invoices.voidInvoice(sub.latest_invoice as string);
    expect(voided.status).toBe('void');
    expect(voided.status_transitions.voided_at).toBe(T0 + 31 * DAY + 3600);
    sub = await stripe.subscriptions.retrieve(subscription.id);
    expect(sub.status).toBe('active');

    await advance(stripe, clock.id, T0 + 59 * DAY + 3600);
    sub = await stripe.subscriptions.retrieve(subscription.id);
    expect(sub.status).toBe('past_due');
    const written = await stripe.invoices.markUncollectible(sub.latest_invoice as string);
    expect(written.status).toBe('uncollectible');
    expect(written.status_transitions.marked_uncollectible_at).toBe(T0 + 59 * DAY + 3600);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    const err = await catchError(stripe.invoices.markUncollectible(voided.id));
    expect(err.statusCode).toBe(400);

    expect((await lastEventFor(stripe, 'invoice.voided', voided.id)).created).toBe(T0 + 31 * DAY + 3600);
    expect((await lastEventFor(stripe, 'invoice.marked_uncollectible', written.id)).created).toBe(T0 + 59 * DAY + 3600);
  });

  it('leaves a subscription incomplete when its first payment fails', async () => {
    const { subscription } = await subscribedCustomer(stripe, 'pm_card_chargeDeclinedInsufficientFunds');
    expect(subscription.status).toBe('incomplete');
    const invoice = await stripe.invoices.retrieve(subscription.latest_invoice as string);
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 1, billing_reason: 'subscription_create' });
  });
});
