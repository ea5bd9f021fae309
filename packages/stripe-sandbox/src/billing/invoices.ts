// Invoices: drafts and their lines, finalizing, paid, void and uncollectible, and which payment
// attempts count on Stripe's retry schedule.
import type Stripe from 'stripe';
import type { Core } from '../core.ts';
import { idOf } from '../lookup.ts';
import { buildInvoice, buildInvoiceItemLine, setInvoiceLines } from '../objects/invoice.ts';
import { buildInvoicePayment, buildPaymentIntent } from '../objects/payment.ts';
import { invoicePaymentOf, paymentIntentOf, refreshDelinquency, settleSubscription } from './state.ts';

/** A renewal (or a one-off invoice left on auto_advance) waits this long in draft. */
export const DRAFT_FINALIZE_DELAY_SECONDS = 3600;

export function createDraftInvoice(
  core: Core,
  f: {
    customer: Stripe.Customer;
    subscription: Stripe.Subscription | null;
    billingReason: Stripe.Invoice.BillingReason;
    collectionMethod: Stripe.Invoice.CollectionMethod;
    autoAdvance: boolean;
    description: string | null;
    metadata: Record<string, string>;
    defaultPaymentMethod: string | null;
    daysUntilDue: number | null;
    currency: string;
    periodStart: number;
    periodEnd: number;
  },
): Stripe.Invoice {
  const now = core.nowForCustomer(f.customer.id);
  const inv = buildInvoice({ ...f, created: now });
  if (f.collectionMethod === 'send_invoice' && f.daysUntilDue !== null) inv.due_date = now + f.daysUntilDue * 86_400;
  // One-off invoices left on auto_advance finalize themselves an hour after creation.
  if (f.billingReason === 'manual' && f.autoAdvance) inv.automatically_finalizes_at = now + DRAFT_FINALIZE_DELAY_SECONDS;
  core.store.put('invoice', inv);
  if (f.customer.currency === null) f.customer.currency = f.currency;
  return inv;
}

/** Pulls the customer's pending invoice items (optionally one subscription's) onto a draft. */
export function collectPendingItems(core: Core, inv: Stripe.Invoice, subscriptionId: string | null): void {
  const pending = core.store
    .all('invoiceitem')
    .filter(
      (ii) =>
        ii.invoice === null &&
        idOf(ii.customer as string) === idOf(inv.customer as string) &&
        (subscriptionId === null || ii.parent?.subscription_details?.subscription === subscriptionId),
    );
  for (const ii of pending) ii.invoice = inv.id;
  if (pending.length > 0) refreshInvoiceItemLines(core, inv);
}

export function refreshInvoiceItemLines(core: Core, inv: Stripe.Invoice): void {
  const subscriptionLines = inv.lines.data.filter((l) => l.parent?.type === 'subscription_item_details');
  const itemLines = core.store
    .all('invoiceitem')
    .filter((ii) => ii.invoice === inv.id)
    .sort((a, b) => core.store.seqOf(a.id) - core.store.seqOf(b.id))
    .map((ii) => inv.lines.data.find((l) => l.parent?.invoice_item_details?.invoice_item === ii.id) ?? buildInvoiceItemLine(ii, inv.id));
  setInvoiceLines(inv, [...subscriptionLines, ...itemLines]);
}

export function finalizeInvoice(core: Core, inv: Stripe.Invoice, autoAdvance?: boolean): void {
  const customerId = idOf(inv.customer as string)!;
  const customer = core.store.get('customer', customerId)!;
  const now = core.nowForCustomer(customerId);
  inv.status = 'open';
  inv.number = `${customer.invoice_prefix}-${String(customer.next_invoice_sequence ?? 1).padStart(4, '0')}`;
  customer.next_invoice_sequence = (customer.next_invoice_sequence ?? 1) + 1;
  inv.hosted_invoice_url = `${core.baseUrl}/i/${inv.id}`;
  inv.invoice_pdf = `${core.baseUrl}/i/${inv.id}/pdf`;
  inv.effective_at = now;
  inv.ending_balance = 0;
  inv.automatically_finalizes_at = null;
  inv.status_transitions.finalized_at = now;
  if (autoAdvance !== undefined) inv.auto_advance = autoAdvance;
  core.emit('invoice.finalized', inv);
  if (inv.amount_due === 0) {
    // Nothing to collect: Stripe settles zero-amount invoices at finalization.
    markInvoicePaid(core, inv, { charged: false, outOfBand: false });
    return;
  }
  const pi = buildPaymentIntent({
    created: now,
    amount: inv.amount_due,
    currency: inv.currency,
    customer: customerId,
    description:
      inv.billing_reason === 'subscription_create'
        ? 'Subscription creation'
        : inv.billing_reason === 'subscription_cycle'
          ? 'Subscription update'
          : null,
  });
  core.store.put('payment_intent', pi);
  core.store.put('invoice_payment', buildInvoicePayment({ created: now, invoice: inv, paymentIntent: pi }));
  core.emit('payment_intent.created', pi);
}

export function markInvoicePaid(
  core: Core,
  inv: Stripe.Invoice,
  how: { charged: boolean; outOfBand: boolean; kind?: AttemptKind },
): void {
  const customerId = idOf(inv.customer as string)!;
  const now = core.nowForCustomer(customerId);
  inv.status = 'paid';
  inv.amount_paid = inv.amount_due;
  inv.amount_remaining = 0;
  if (how.charged) {
    inv.attempted = true;
    if (countsAsAttempt(inv, how.kind ?? 'manual')) inv.attempt_count += 1;
  }
  inv.next_payment_attempt = null;
  inv.auto_advance = false;
  inv.status_transitions.paid_at = now;
  delete inv.status_details;
  const ip = invoicePaymentOf(core, inv);
  const pi = paymentIntentOf(core, inv);
  if (ip && how.charged) {
    ip.status = 'paid';
    ip.amount_paid = inv.amount_due;
    ip.status_transitions.paid_at = now;
    core.emit('invoice_payment.paid', ip);
  } else if (ip && pi && how.outOfBand) {
    cancelPaymentIntent(core, pi, ip, now, null);
  }
  refreshDelinquency(core, customerId);
  core.emit('invoice.paid', inv);
  if (!how.outOfBand) core.emit('invoice.payment_succeeded', inv);
  settleSubscription(core, inv);
}

function cancelPaymentIntent(
  core: Core,
  pi: Stripe.PaymentIntent,
  ip: Stripe.InvoicePayment,
  now: number,
  reason: Stripe.PaymentIntent.CancellationReason | null,
): void {
  if (pi.status === 'succeeded' || pi.status === 'canceled') return;
  pi.status = 'canceled';
  pi.canceled_at = now;
  pi.cancellation_reason = reason;
  pi.next_action = null;
  ip.status = 'canceled';
  ip.status_transitions.canceled_at = now;
  core.emit('payment_intent.canceled', pi);
}

/**
 * Who made a payment attempt. Stripe's `attempt_count` is "the number of payment attempts made for
 * this invoice, from the perspective of the payment retry schedule. Any payment attempt counts as the
 * first attempt, and subsequently only automatic retries increment the attempt count. In other words,
 * manual payment attempts after the first attempt do not affect the retry schedule"
 * (docs.stripe.com/api/invoices/object#invoice_object-attempt_count). `automatic`: Stripe by itself
 * (the renewal's attempt, its retries); `manual`: `invoices.pay`, the hosted invoice page.
 */
export type AttemptKind = 'automatic' | 'manual';

export function countsAsAttempt(inv: Stripe.Invoice, kind: AttemptKind): boolean {
  return kind === 'automatic' || inv.attempt_count === 0;
}

export function voidInvoice(core: Core, inv: Stripe.Invoice): void {
  const customerId = idOf(inv.customer as string)!;
  const now = core.nowForCustomer(customerId);
  inv.status = 'void';
  inv.status_transitions.voided_at = now;
  inv.auto_advance = false;
  inv.next_payment_attempt = null;
  delete inv.status_details;
  const pi = paymentIntentOf(core, inv);
  const ip = invoicePaymentOf(core, inv);
  if (pi && ip) cancelPaymentIntent(core, pi, ip, now, 'void_invoice');
  refreshDelinquency(core, customerId);
  core.emit('invoice.voided', inv);
  settleSubscription(core, inv);
}

export function markUncollectible(
  core: Core,
  inv: Stripe.Invoice,
  reason: 'user_forgiven' | 'subscription_paused' | 'max_payment_attempts',
  options: { settle?: boolean } = {},
): void {
  const customerId = idOf(inv.customer as string)!;
  const now = core.nowForCustomer(customerId);
  inv.status = 'uncollectible';
  inv.status_transitions.marked_uncollectible_at = now;
  inv.next_payment_attempt = null;
  inv.status_details = { uncollectible: { reason } } as Stripe.Invoice.StatusDetails;
  refreshDelinquency(core, customerId);
  core.emit('invoice.marked_uncollectible', inv);
  if (options.settle !== false) settleSubscription(core, inv);
}
