// The billing state every lifecycle step shares: recording a change as its event, finding an
// invoice's subscription and payment, and the status rules that follow the latest invoice.
import type Stripe from 'stripe';
import { previousAttributes, type Core } from '../core.ts';
import { idOf } from '../lookup.ts';

/** Mutates an object and records `<type>` with previous_attributes, if anything changed. */
export function change<T extends object>(core: Core, type: string, obj: T, mutate: (o: T) => void): boolean {
  const before = structuredClone(obj);
  mutate(obj);
  const prev = previousAttributes(before, obj);
  if (prev) core.emit(type, obj, prev);
  return prev !== undefined;
}

export function subscriptionOf(core: Core, inv: Stripe.Invoice): Stripe.Subscription | undefined {
  const id = idOf(inv.parent?.subscription_details?.subscription ?? null);
  return id ? core.store.get('subscription', id) : undefined;
}

export function invoicePaymentOf(core: Core, inv: Stripe.Invoice): Stripe.InvoicePayment | undefined {
  return core.store.where('invoice_payment', 'invoice', inv.id).find((ip) => ip.is_default);
}

export function paymentIntentOf(core: Core, inv: Stripe.Invoice): Stripe.PaymentIntent | undefined {
  const ip = invoicePaymentOf(core, inv);
  const piId = ip ? idOf(ip.payment.payment_intent ?? null) : null;
  return piId ? core.store.get('payment_intent', piId) : undefined;
}

/** Stripe's payment method priority for an invoice: invoice, subscription, then customer default. */
export function defaultPaymentMethodFor(core: Core, inv: Stripe.Invoice): string | null {
  const fromInvoice = idOf(inv.default_payment_method);
  if (fromInvoice) return fromInvoice;
  const fromSub = idOf(subscriptionOf(core, inv)?.default_payment_method ?? null);
  if (fromSub) return fromSub;
  const customer = core.store.get('customer', idOf(inv.customer as string)!);
  return idOf(customer?.invoice_settings.default_payment_method ?? null);
}

export function setSubscriptionStatus(core: Core, sub: Stripe.Subscription, status: Stripe.Subscription.Status): void {
  if (sub.status === status) return;
  change(core, 'customer.subscription.updated', sub, (s) => {
    s.status = status;
  });
}

/** `delinquent` tracks whether the customer has an invoice whose automatic payment failed. */
export function refreshDelinquency(core: Core, customerId: string): void {
  const customer = core.store.get('customer', customerId);
  if (!customer) return;
  customer.delinquent = core.store.where('invoice', 'customer', customerId).some((i) => i.status === 'open' && i.attempt_count > 0);
}

/** A settled latest invoice puts a past-due or incomplete subscription back in good standing. */
export function settleSubscription(core: Core, inv: Stripe.Invoice): void {
  const sub = subscriptionOf(core, inv);
  if (!sub || idOf(sub.latest_invoice) !== inv.id) return;
  if (sub.status === 'past_due' || sub.status === 'unpaid' || sub.status === 'incomplete') {
    setSubscriptionStatus(core, sub, 'active');
  }
}

export function cancelSubscription(
  core: Core,
  sub: Stripe.Subscription,
  at: number,
  reason: Stripe.Subscription.CancellationDetails.Reason,
  immediate: boolean,
): void {
  sub.status = 'canceled';
  sub.ended_at = at;
  sub.canceled_at = immediate ? at : (sub.canceled_at ?? at);
  sub.cancellation_details = { ...(sub.cancellation_details ?? { comment: null, feedback: null, feedback_option: null }), reason };
  // "By default, upon subscription cancellation, Stripe stops automatic collection of all finalized
  // invoices for the customer" (the cancel endpoint's description): they stay open, to be paid by
  // hand, and Stripe attempts none of them again.
  const customerId = idOf(sub.customer as string);
  for (const inv of customerId ? core.store.where('invoice', 'customer', customerId) : []) {
    if (inv.status !== 'open' || (inv.auto_advance === false && inv.next_payment_attempt === null)) continue;
    change(core, 'invoice.updated', inv, (i) => {
      i.auto_advance = false;
      i.next_payment_attempt = null;
    });
  }
  core.emit('customer.subscription.deleted', sub);
}
