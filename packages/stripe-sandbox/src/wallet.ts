// Payment methods on customers: turning test tokens into real pm_… objects, attaching,
// detaching, and the default-payment-method rules Stripe applies.
import type Stripe from 'stripe';
import { testCard, type Decline } from './cards.ts';
import type { Core } from './core.ts';
import { invalidRequest, resourceMissing } from './errors.ts';
import { idOf } from './lookup.ts';
import { buildCardPaymentMethod } from './objects/paymentMethod.ts';

/** Test tokens resolve to one new payment method per request, however many params name them. */
export type TokenCache = Map<string, string>;

export function createFromToken(core: Core, token: string, created: number): Stripe.PaymentMethod | undefined {
  const card = testCard(token);
  if (!card) return undefined;
  const pm = buildCardPaymentMethod(card, created);
  core.store.put('payment_method', pm);
  core.store.state.cards[pm.id] = card.token;
  return pm;
}

/** A payment method by id; a test token yields a fresh unattached one, as Stripe does. */
export function paymentMethodRef(core: Core, ref: string, param: string, cache?: TokenCache, created?: number): Stripe.PaymentMethod {
  const cached = cache?.get(ref);
  if (cached) return core.store.get('payment_method', cached)!;
  const existing = core.store.get('payment_method', ref);
  if (existing) return existing;
  const fresh = createFromToken(core, ref, created ?? core.clockTime(null));
  if (!fresh) throw resourceMissing('PaymentMethod', ref, param);
  cache?.set(ref, fresh.id);
  return fresh;
}

export function attach(core: Core, pm: Stripe.PaymentMethod, customer: Stripe.Customer): Stripe.PaymentMethod {
  const current = idOf(pm.customer);
  if (current === customer.id) return pm;
  if (current) {
    throw invalidRequest('The payment method you provided has already been attached to a customer.', {
      code: 'payment_method_unexpected_state',
    });
  }
  pm.customer = customer.id;
  core.store.put('payment_method', pm); // re-files it under its customer
  core.emit('payment_method.attached', pm);
  return pm;
}

/**
 * A payment method that must belong to `customer`: a test token is created and attached on the
 * spot (how Stripe treats `pm_card_visa` in these params); a real id must already be attached.
 */
export function ownedPaymentMethod(core: Core, ref: string, customer: Stripe.Customer, param: string, cache: TokenCache): Stripe.PaymentMethod {
  const isNewToken = !core.store.get('payment_method', ref) && !cache.has(ref);
  const pm = paymentMethodRef(core, ref, param, cache, core.nowForCustomer(customer.id));
  if (isNewToken) return attach(core, pm, customer);
  if (idOf(pm.customer) !== customer.id) {
    throw invalidRequest(
      `The customer does not have a payment method with the ID ${pm.id}. The payment method must be attached to the customer.`,
      { param },
    );
  }
  return pm;
}

export function detach(core: Core, pm: Stripe.PaymentMethod): Stripe.PaymentMethod {
  const customerId = idOf(pm.customer);
  if (!customerId) {
    throw invalidRequest('The payment method you provided is not attached to a customer so detachment is impossible.', {
      code: 'payment_method_unexpected_state',
    });
  }
  pm.customer = null;
  // Stripe's only event for this is `payment_method.detached`, naming the customer in
  // previous_attributes (docs.stripe.com/api/events/types#event_types-payment_method.detached).
  core.emit('payment_method.detached', pm, { customer: customerId });
  // A detached card can no longer pay (docs.stripe.com/api/payment_methods/detach), so it is no one's
  // default any more; Stripe clears those references without a `customer.updated` or
  // `customer.subscription.updated` of their own (see the README).
  const customer = core.store.get('customer', customerId);
  if (customer && idOf(customer.invoice_settings.default_payment_method) === pm.id) {
    customer.invoice_settings.default_payment_method = null;
  }
  for (const sub of core.store.where('subscription', 'customer', customerId)) {
    if (idOf(sub.default_payment_method) === pm.id) sub.default_payment_method = null;
  }
  return pm;
}

/** How charging this payment method goes: undefined is success. */
export function chargeOutcome(core: Core, pmId: string): Decline | undefined {
  const token = core.store.state.cards[pmId];
  return token ? testCard(token)?.decline : undefined;
}

/**
 * What Stripe's card account updater does when the bank reissues a card: the same payment method
 * gets the new expiry, and `payment_method.automatically_updated` is sent. Stripe offers no
 * API to trigger it; the sandbox does, for tests.
 */
export function updateCardAutomatically(
  core: Core,
  pmId: string,
  expiry: { exp_month: number; exp_year: number; reissued_as?: string },
): Stripe.PaymentMethod {
  const pm = core.store.get('payment_method', pmId);
  if (!pm) throw resourceMissing('PaymentMethod', pmId, 'id');
  if (!pm.card) throw invalidRequest(`${pmId} is not a card.`);
  if (expiry.reissued_as !== undefined) {
    // A lost or stolen card comes back with a new number: it charges as the new test card does.
    const reissued = testCard(expiry.reissued_as);
    if (!reissued) throw invalidRequest(`reissued_as: ${expiry.reissued_as} is not a test card token.`);
    core.store.state.cards[pm.id] = reissued.token;
    pm.card.last4 = reissued.number.slice(-4);
  }
  pm.card.exp_month = expiry.exp_month;
  pm.card.exp_year = expiry.exp_year;
  core.emit('payment_method.automatically_updated', pm);
  return pm;
}
