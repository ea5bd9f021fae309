import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { catchError, lastEventFor, startHarness, T0, type Harness } from './helpers.ts';

describe('stripe sandbox customers and payment methods', () => {
  let h: Harness;
  let stripe: Stripe;

  beforeAll(async () => {
    h = await startHarness();
    stripe = h.stripe;
  });
  afterAll(() => h.close());

  it('creates a customer on a test clock with a test token as default payment method', async () => {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0 });
    const customer = await stripe.customers.create({
      email: 'grace@example.com',
      name: 'Grace Hopper',
      metadata: { tenant: 't1' },
      preferred_locales: ['fr-FR', 'en'],
      test_clock: clock.id,
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
      expand: ['invoice_settings.default_payment_method'],
    });
    expect(customer.id).toMatch(/^cus_[A-Za-z0-9]{14}$/);
    expect(customer.created).toBe(T0);
    expect(customer.test_clock).toBe(clock.id);
    expect(customer.livemode).toBe(false);
    expect(customer.preferred_locales).toEqual(['fr-FR', 'en']);
    expect(customer.metadata).toEqual({ tenant: 't1' });
    const pm = customer.invoice_settings.default_payment_method as Stripe.PaymentMethod;
    expect(pm.id).toMatch(/^pm_/);
    expect(pm.id).not.toBe('pm_card_visa');
    expect(pm.customer).toBe(customer.id);
    expect(pm.card).toMatchObject({ brand: 'visa', last4: '4242' });
    expect(pm.card!.exp_year).toBeGreaterThan(new Date().getUTCFullYear());
    const listed = await stripe.customers.listPaymentMethods(customer.id);
    expect(listed.data.map((p) => p.id)).toEqual([pm.id]);
  });

  it('emits customer.updated with previous_attributes when the default payment method changes', async () => {
    const customer = await stripe.customers.create({ email: 'x@example.com' });
    const updated = await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: 'pm_card_mastercard' } });
    const pmId = updated.invoice_settings.default_payment_method as string;
    expect((await stripe.paymentMethods.retrieve(pmId)).card?.brand).toBe('mastercard');
    const event = await lastEventFor(stripe, 'customer.updated', customer.id);
    expect(event.data.previous_attributes).toEqual({ invoice_settings: { default_payment_method: null } });
    expect((event.data.object as Stripe.Customer).invoice_settings.default_payment_method).toBe(pmId);
  });

  it('refuses a default payment method that belongs to nobody', async () => {
    const customer = await stripe.customers.create({});
    const loose = await stripe.paymentMethods.retrieve('pm_card_visa');
    const err = await catchError(stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: loose.id } }));
    expect(err.statusCode).toBe(400);
    expect(err.param).toBe('invoice_settings[default_payment_method]');
  });

  it('deletes a customer: deleted shape, later reads say deleted, customer.deleted is emitted', async () => {
    const customer = await stripe.customers.create({ email: 'gone@example.com' });
    const deleted = await stripe.customers.del(customer.id);
    expect(deleted).toMatchObject({ id: customer.id, object: 'customer', deleted: true });
    const again = await stripe.customers.retrieve(customer.id);
    expect(again).toMatchObject({ id: customer.id, object: 'customer', deleted: true });
    const err = await catchError(stripe.customers.update(customer.id, { name: 'x' }));
    expect(err.statusCode).toBe(404);
    await lastEventFor(stripe, 'customer.deleted', customer.id);
  });

  it('attaches and detaches payment methods with events', async () => {
    const customer = await stripe.customers.create({});
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    expect(pm.customer).toBe(customer.id);
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    const detached = await stripe.paymentMethods.detach(pm.id);
    expect(detached.customer).toBeNull();
    const after = await stripe.customers.retrieve(customer.id);
    expect((after as Stripe.Customer).invoice_settings.default_payment_method).toBeNull();
    const types = (await stripe.events.list({ types: ['payment_method.attached', 'payment_method.detached'], limit: 2 })).data.map((e) => e.type);
    expect(types).toEqual(['payment_method.detached', 'payment_method.attached']);
  });

  it('clears the default when the customer detaches it, says so in customer.updated, and then has nothing to pay with', async () => {
    const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const card = customer.invoice_settings.default_payment_method as string;
    await stripe.invoiceItems.create({ customer: customer.id, amount: 900, currency: 'usd', description: 'Seat' });
    const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    const invoice = await stripe.invoices.finalizeInvoice(draft.id);

    await stripe.paymentMethods.detach(card);
    const event = await lastEventFor(stripe, 'customer.updated', customer.id);
    const err = await catchError(stripe.invoices.pay(invoice.id));

    expect(event.data.previous_attributes).toEqual({ invoice_settings: { default_payment_method: card } });
    expect((event.data.object as Stripe.Customer).invoice_settings.default_payment_method).toBeNull();
    // Stripe refuses the request (400) rather than declining a charge: there is nothing to charge.
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 400, code: 'resource_missing', param: undefined });
    expect(err.message).toMatch(/^This customer has no attached payment source or default payment method\. /);
    expect(await stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'open', attempt_count: 0 });
  });

  const tokens: Array<[string, string, string | null, string | null]> = [
    ['pm_card_visa', '4242', null, null],
    ['pm_card_mastercard', '4444', null, null],
    ['pm_card_chargeCustomerFail', '0341', 'card_declined', 'generic_decline'],
    ['pm_card_chargeDeclinedInsufficientFunds', '9995', 'card_declined', 'insufficient_funds'],
    ['pm_card_chargeDeclinedExpiredCard', '0069', 'expired_card', 'expired_card'],
    ['pm_card_visa_chargeDeclinedLostCard', '9987', 'card_declined', 'lost_card'],
    ['pm_card_chargeDeclinedLostCard', '9987', 'card_declined', 'lost_card'],
    ['pm_card_visa_chargeDeclinedStolenCard', '9979', 'card_declined', 'stolen_card'],
    ['pm_card_chargeDeclinedStolenCard', '9979', 'card_declined', 'stolen_card'],
    ['pm_card_chargeDeclinedFraudulent', '0019', 'card_declined', 'fraudulent'],
    ['pm_card_authenticationRequired', '3184', 'authentication_required', 'authentication_required'],
  ];

  it.each(tokens)('attaches %s (last4 %s) and charging it gives %s / %s', async (token, last4, code, declineCode) => {
    const customer = await stripe.customers.create({});
    const pm = await stripe.paymentMethods.attach(token, { customer: customer.id });
    expect(pm.card?.last4).toBe(last4);
    await stripe.invoiceItems.create({ customer: customer.id, amount: 1200, currency: 'usd', description: 'Setup fee' });
    const invoice = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    expect(invoice.amount_due).toBe(1200);
    if (code === null) {
      const paid = await stripe.invoices.pay(invoice.id, { payment_method: pm.id });
      expect(paid.status).toBe('paid');
      expect(paid.amount_paid).toBe(1200);
      return;
    }
    const err = await catchError(stripe.invoices.pay(invoice.id, { payment_method: pm.id }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err.statusCode).toBe(402);
    expect(err.code).toBe(code);
    expect(err.decline_code).toBe(declineCode);
    expect(err.payment_intent?.status).toBe(code === 'authentication_required' ? 'requires_action' : 'requires_payment_method');
    expect(err.charge).toMatch(/^ch_/);
    const after = await stripe.invoices.retrieve(invoice.id);
    expect(after).toMatchObject({ status: 'open', attempted: true, attempt_count: 1 });
  });

  it('uses the real decline messages', async () => {
    const customer = await stripe.customers.create({
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
      invoice_settings: { default_payment_method: 'pm_card_chargeDeclinedInsufficientFunds' },
    });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 500, currency: 'usd' });
    const invoice = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    const err = await catchError(stripe.invoices.pay(invoice.id));
    expect(err.message).toBe('Your card has insufficient funds.');
  });
});
