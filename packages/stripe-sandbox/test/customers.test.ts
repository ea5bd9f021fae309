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

  // Stripe's event for a removed card is payment_method.detached, naming the customer it left in
  // previous_attributes (docs.stripe.com/api/events/types#event_types-payment_method.detached). A
  // detached card can no longer pay (docs.stripe.com/api/payment_methods/detach), so it stops being
  // anyone's default, without a customer.updated or customer.subscription.updated of its own.
  it('clears the default when the customer detaches it, says so only in payment_method.detached, and then has nothing to pay with', async () => {
    const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const card = customer.invoice_settings.default_payment_method as string;
    const price = await stripe.prices.create({ currency: 'usd', unit_amount: 900, recurring: { interval: 'month' }, product_data: { name: 'Seat' } });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], default_payment_method: card });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 900, currency: 'usd', description: 'Seat' });
    const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    const invoice = await stripe.invoices.finalizeInvoice(draft.id);
    const before = (await stripe.events.list({ limit: 1 })).data[0]!.id;

    await stripe.paymentMethods.detach(card);
    const after = (await stripe.events.list({ ending_before: before, limit: 100 })).data;
    const err = await catchError(stripe.invoices.pay(invoice.id));

    expect(after.map((e) => e.type)).toEqual(['payment_method.detached']);
    expect(after[0]!.data.previous_attributes).toEqual({ customer: customer.id });
    expect((after[0]!.data.object as Stripe.PaymentMethod).customer).toBeNull();
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).invoice_settings.default_payment_method).toBeNull();
    expect((await stripe.subscriptions.retrieve(subscription.id)).default_payment_method).toBeNull();
    // Stripe refuses the request (400) rather than declining a charge: there is nothing to charge.
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 400, code: 'resource_missing', param: undefined });
    expect(err.message).toMatch(/^This customer has no attached payment source or default payment method\. /);
    expect(await stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'open', attempt_count: 0 });
  });

  it('refuses to pay with a detached card that an invoice still names', async () => {
    const customer = await stripe.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const card = customer.invoice_settings.default_payment_method as string;
    await stripe.invoiceItems.create({ customer: customer.id, amount: 900, currency: 'usd' });
    const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include', default_payment_method: card });
    const invoice = await stripe.invoices.finalizeInvoice(draft.id);

    await stripe.paymentMethods.detach(card);
    const err = await catchError(stripe.invoices.pay(invoice.id));

    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 400, code: undefined, param: undefined });
    expect(err.message).toMatch(/or was detached from a Customer\. It may not be used again\./);
    expect((await stripe.charges.list({ customer: customer.id })).data).toHaveLength(0);
  });

  // The tokens of docs.stripe.com/testing (#declined-payments, #fraud-prevention) and the other
  // spellings Stripe accepts: [token, last4, code, decline_code, advice_code, network_decline_code,
  // outcome.type, outcome.seller_message]. The advice is the one each reason calls for
  // (docs.stripe.com/declines/card#retrying-issuer-declines); the network codes are Visa's
  // (docs.stripe.com/declines/network-codes). A Radar block never reached the bank: no advice, no
  // network code (docs.stripe.com/declines/how-declines-work#blocked-payments).
  const bank = (code: string) => `The bank returned the decline code \`${code}\`.`;
  const NO_DETAILS = 'The bank did not return any further details with this decline.';
  const declines: Array<[string, string, string, string, string | undefined, string | undefined, string, string]> = [
    ['pm_card_chargeCustomerFail', '0341', 'card_declined', 'generic_decline', 'try_again_later', '05', 'issuer_declined', NO_DETAILS],
    ['pm_card_visa_chargeDeclined', '0002', 'card_declined', 'generic_decline', 'try_again_later', '05', 'issuer_declined', NO_DETAILS],
    ['pm_card_visa_chargeDeclinedInsufficientFunds', '9995', 'card_declined', 'insufficient_funds', 'try_again_later', '51', 'issuer_declined', bank('insufficient_funds')],
    ['pm_card_chargeDeclinedInsufficientFunds', '9995', 'card_declined', 'insufficient_funds', 'try_again_later', '51', 'issuer_declined', bank('insufficient_funds')],
    ['pm_card_chargeDeclinedExpiredCard', '0069', 'expired_card', 'expired_card', 'confirm_card_data', '54', 'issuer_declined', bank('expired_card')],
    ['pm_card_visa_chargeDeclinedExpiredCard', '0069', 'expired_card', 'expired_card', 'confirm_card_data', '54', 'issuer_declined', bank('expired_card')],
    ['pm_card_chargeDeclinedIncorrectCvc', '0127', 'incorrect_cvc', 'incorrect_cvc', 'confirm_card_data', 'N7', 'issuer_declined', bank('incorrect_cvc')],
    ['pm_card_visa_chargeDeclinedIncorrectCvc', '0127', 'incorrect_cvc', 'incorrect_cvc', 'confirm_card_data', 'N7', 'issuer_declined', bank('incorrect_cvc')],
    ['pm_card_chargeDeclinedProcessingError', '0119', 'processing_error', 'processing_error', 'try_again_later', '96', 'issuer_declined', bank('processing_error')],
    ['pm_card_visa_chargeDeclinedProcessingError', '0119', 'processing_error', 'processing_error', 'try_again_later', '96', 'issuer_declined', bank('processing_error')],
    ['pm_card_visa_chargeDeclinedVelocityLimitExceeded', '6975', 'card_declined', 'card_velocity_exceeded', 'try_again_later', '61', 'issuer_declined', bank('card_velocity_exceeded')],
    ['pm_card_visa_chargeDeclinedLostCard', '9987', 'card_declined', 'lost_card', 'do_not_try_again', '41', 'issuer_declined', bank('lost_card')],
    ['pm_card_chargeDeclinedLostCard', '9987', 'card_declined', 'lost_card', 'do_not_try_again', '41', 'issuer_declined', bank('lost_card')],
    ['pm_card_visa_chargeDeclinedStolenCard', '9979', 'card_declined', 'stolen_card', 'do_not_try_again', '43', 'issuer_declined', bank('stolen_card')],
    ['pm_card_chargeDeclinedStolenCard', '9979', 'card_declined', 'stolen_card', 'do_not_try_again', '43', 'issuer_declined', bank('stolen_card')],
    ['pm_card_radarBlock', '0019', 'card_declined', 'fraudulent', undefined, undefined, 'blocked', 'Stripe blocked this payment as too risky.'],
    ['pm_card_chargeDeclinedFraudulent', '0019', 'card_declined', 'fraudulent', undefined, undefined, 'blocked', 'Stripe blocked this payment as too risky.'],
  ];

  async function openInvoiceWith(token: string, last4: string) {
    const customer = await stripe.customers.create({});
    const pm = await stripe.paymentMethods.attach(token, { customer: customer.id });
    expect(pm.card?.last4).toBe(last4);
    await stripe.invoiceItems.create({ customer: customer.id, amount: 1200, currency: 'usd', description: 'Setup fee' });
    const invoice = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    expect(invoice.amount_due).toBe(1200);
    return { customer, pm, invoice };
  }

  it.each([
    ['pm_card_visa', '4242'],
    ['pm_card_mastercard', '4444'],
  ])('attaches %s (last4 %s) and charging it pays', async (token, last4) => {
    const { pm, invoice } = await openInvoiceWith(token, last4);
    const paid = await stripe.invoices.pay(invoice.id, { payment_method: pm.id });
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 1200 });
  });

  it.each(declines)(
    'attaches %s (last4 %s), and charging it gives %s / %s, advice %s, network %s, outcome %s',
    async (token, last4, code, declineCode, advice, network, type, sellerMessage) => {
      const { customer, pm, invoice } = await openInvoiceWith(token, last4);
      const err = await catchError(stripe.invoices.pay(invoice.id, { payment_method: pm.id }));
      const charge = await stripe.charges.retrieve(err.charge as string);

      expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
      expect(err).toMatchObject({ statusCode: 402, code, decline_code: declineCode });
      const raw = err.raw as { advice_code?: string; network_decline_code?: string };
      expect([raw.advice_code, raw.network_decline_code]).toEqual([advice, network]);
      expect(err.payment_intent?.status).toBe('requires_payment_method');
      const lastError = err.payment_intent?.last_payment_error;
      expect(lastError).toMatchObject({ code, decline_code: declineCode });
      expect([lastError?.advice_code, lastError?.network_decline_code]).toEqual([advice, network]);
      expect(charge).toMatchObject({ status: 'failed', failure_code: code, customer: customer.id });
      expect(charge.outcome).toMatchObject({
        type,
        advice_code: advice ?? null,
        network_decline_code: network ?? null,
        network_status: type === 'blocked' ? 'not_sent_to_network' : 'declined_by_network',
        seller_message: sellerMessage,
      });
      const after = await stripe.invoices.retrieve(invoice.id);
      expect(after).toMatchObject({ status: 'open', attempted: true, attempt_count: 1 });
    },
  );

  // docs.stripe.com/testing#authentication-and-setup: 4000002760003184 needs authentication on every
  // charge. invoices.pay answers 402 `invoice_payment_intent_requires_action` (docs.stripe.com/error-codes;
  // stripe/stripe-node#628), not a decline: nothing was charged, and the invoice's payment intent waits
  // in requires_action. Stripe sends invoice.payment_failed and invoice.payment_action_required
  // (docs.stripe.com/billing/subscriptions/webhooks) and payment_intent.requires_action, and no charge.failed.
  it('answers invoice_payment_intent_requires_action for a card that needs 3-D Secure, charges nothing and says so in events', async () => {
    const { pm, invoice } = await openInvoiceWith('pm_card_authenticationRequired', '3184');
    await stripe.invoices.finalizeInvoice(invoice.id);
    const before = (await stripe.events.list({ limit: 1 })).data[0]!.id;

    const err = await catchError(stripe.invoices.pay(invoice.id, { payment_method: pm.id }));
    const types = (await stripe.events.list({ ending_before: before, limit: 100 })).data.map((e) => e.type).reverse();
    const after = await stripe.invoices.retrieve(invoice.id, { expand: ['payments.data.payment.payment_intent'] });
    const intent = after.payments?.data[0]?.payment.payment_intent as Stripe.PaymentIntent;

    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({ statusCode: 402, type: 'StripeCardError', code: 'invoice_payment_intent_requires_action' });
    expect(err.raw).not.toHaveProperty('decline_code');
    expect(err.raw).not.toHaveProperty('payment_intent');
    expect(err.message).toMatch(/^This payment requires additional user action before it can be completed successfully\. Payment can be completed using the PaymentIntent associated with the invoice\./);
    expect(err.charge).toBeUndefined();
    expect(types).toEqual(['payment_intent.requires_action', 'invoice.payment_failed', 'invoice.payment_action_required']);
    expect(intent).toMatchObject({ status: 'requires_action', latest_charge: null, last_payment_error: null, payment_method: pm.id });
    expect(intent.next_action?.type).toBe('use_stripe_sdk');
    expect((await stripe.charges.list({ payment_intent: intent.id })).data).toHaveLength(0);
    expect(after).toMatchObject({ status: 'open', attempted: true });
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
