// Invoice and subscription lifecycle: finalizing, charging, paying, voiding, renewing on period
// ends (test clock or real time) and the subscription status rules that follow the latest invoice.
import type Stripe from 'stripe';
import { NON_RETRYABLE_DECLINE_CODES, type Decline } from './cards.ts';
import { previousAttributes, type Core } from './core.ts';
import { newId } from './ids.ts';
import { idOf } from './lookup.ts';
import { buildInvoice, buildSubscriptionLine, buildInvoiceItemLine, setInvoiceLines } from './objects/invoice.ts';
import { buildCharge, buildInvoicePayment, buildPaymentIntent } from './objects/payment.ts';
import { buildSubscription, buildSubscriptionItem } from './objects/subscription.ts';
import { nextBoundary, type Interval } from './time.ts';
import { chargeOutcome } from './wallet.ts';

const INCOMPLETE_EXPIRY_SECONDS = 23 * 3600;
const DRAFT_FINALIZE_DELAY_SECONDS = 3600;

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

function setSubscriptionStatus(core: Core, sub: Stripe.Subscription, status: Stripe.Subscription.Status): void {
  if (sub.status === status) return;
  change(core, 'customer.subscription.updated', sub, (s) => {
    s.status = status;
  });
}

/** `delinquent` tracks whether the customer has an invoice whose automatic payment failed. */
function refreshDelinquency(core: Core, customerId: string): void {
  const customer = core.store.get('customer', customerId);
  if (!customer) return;
  customer.delinquent = core.store.where('invoice', 'customer', customerId).some((i) => i.status === 'open' && i.attempt_count > 0);
}

/** A settled latest invoice puts a past-due or incomplete subscription back in good standing. */
function settleSubscription(core: Core, inv: Stripe.Invoice): void {
  const sub = subscriptionOf(core, inv);
  if (!sub || idOf(sub.latest_invoice) !== inv.id) return;
  if (sub.status === 'past_due' || sub.status === 'unpaid' || sub.status === 'incomplete') {
    setSubscriptionStatus(core, sub, 'active');
  }
}

// ---------------------------------------------------------------------------------------------
// Invoices

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

function countsAsAttempt(inv: Stripe.Invoice, kind: AttemptKind): boolean {
  return kind === 'automatic' || inv.attempt_count === 0;
}

export type PaymentAttempt =
  | { ok: true }
  | {
      ok: false;
      decline: Decline | undefined;
      charge: Stripe.Charge | undefined;
      paymentIntent: Stripe.PaymentIntent | undefined;
      paymentMethod: Stripe.PaymentMethod | undefined;
    };

/**
 * One payment attempt on an open invoice with `pmId` (null: the customer has nothing to
 * charge, which still counts as a failed attempt).
 */
export function attemptInvoicePayment(core: Core, inv: Stripe.Invoice, pmId: string | null, kind: AttemptKind): PaymentAttempt {
  const customerId = idOf(inv.customer as string)!;
  const now = core.nowForCustomer(customerId);
  const pi = paymentIntentOf(core, inv);
  const pm = pmId ? core.store.get('payment_method', pmId) : undefined;
  if (!pi || !pm) {
    recordFailedAttempt(core, inv, undefined, kind, null);
    return { ok: false, decline: undefined, charge: undefined, paymentIntent: pi, paymentMethod: pm };
  }
  const decline = chargeOutcome(core, pm.id);
  pi.payment_method = pm.id;
  if (decline?.requiresAction) {
    // The bank wants the customer to authenticate (3-D Secure): nothing is charged yet, so there is
    // no charge and no `charge.failed`; the intent waits in `requires_action` for the customer, who
    // confirms on the hosted invoice page (docs.stripe.com/billing/subscriptions/overview#requires-action,
    // docs.stripe.com/billing/subscriptions/webhooks: invoice.payment_failed, invoice.payment_action_required).
    pi.status = 'requires_action';
    pi.last_payment_error = null;
    pi.next_action = {
      type: 'use_stripe_sdk',
      use_stripe_sdk: { type: 'three_d_secure_redirect', stripe_js: inv.hosted_invoice_url ?? core.baseUrl, source: pm.id },
    } as unknown as Stripe.PaymentIntent.NextAction;
    core.emit('payment_intent.requires_action', pi);
    recordFailedAttempt(core, inv, decline, kind, pm.id);
    return { ok: false, decline, charge: undefined, paymentIntent: pi, paymentMethod: pm };
  }
  const charge = buildCharge({ created: now, paymentIntent: pi, paymentMethod: pm, decline, baseUrl: core.baseUrl });
  core.store.put('charge', charge);
  pi.latest_charge = charge.id;
  if (!decline) {
    pi.status = 'succeeded';
    pi.amount_received = pi.amount;
    pi.last_payment_error = null;
    pi.next_action = null;
    core.emit('charge.succeeded', charge);
    core.emit('payment_intent.succeeded', pi);
    markInvoicePaid(core, inv, { charged: true, outOfBand: false, kind });
    return { ok: true };
  }
  // Stripe's error object: fields the decline has no value for are left out, not null.
  pi.last_payment_error = {
    advice_code: charge.outcome?.advice_code ?? undefined,
    network_advice_code: charge.outcome?.network_advice_code ?? undefined,
    network_decline_code: charge.outcome?.network_decline_code ?? undefined,
    charge: charge.id,
    code: decline.code as Stripe.PaymentIntent.LastPaymentError.Code,
    decline_code: decline.decline_code,
    doc_url: `https://stripe.com/docs/error-codes/${decline.code.replace(/_/g, '-')}`,
    message: decline.message,
    payment_method: structuredClone(pm),
    type: 'card_error',
  } as Stripe.PaymentIntent.LastPaymentError;
  pi.status = 'requires_payment_method';
  pi.next_action = null;
  core.emit('charge.failed', charge);
  core.emit('payment_intent.payment_failed', pi);
  recordFailedAttempt(core, inv, decline, kind, pm.id);
  return { ok: false, decline, charge, paymentIntent: pi, paymentMethod: pm };
}

function recordFailedAttempt(
  core: Core,
  inv: Stripe.Invoice,
  decline: Decline | undefined,
  kind: AttemptKind,
  pmId: string | null,
): void {
  const customerId = idOf(inv.customer as string)!;
  inv.attempted = true;
  if (pmId && decline && NON_RETRYABLE_DECLINE_CODES.has(decline.decline_code)) {
    const declined = ((core.store.state.hardDeclined ??= {})[inv.id] ??= []);
    if (!declined.includes(pmId)) declined.push(pmId);
  }
  // A manual attempt after the first neither counts nor moves Stripe's next automatic attempt.
  const counts = countsAsAttempt(inv, kind);
  const exhausted = counts ? countAttempt(core, inv) : false;
  refreshDelinquency(core, customerId);
  const sub = subscriptionOf(core, inv);
  if (sub && idOf(sub.latest_invoice) === inv.id && (sub.status === 'active' || sub.status === 'trialing')) {
    setSubscriptionStatus(core, sub, 'past_due');
  }
  core.emit('invoice.payment_failed', inv);
  if (decline?.requiresAction) core.emit('invoice.payment_action_required', inv);
  if (exhausted) endOfRetries(core, inv);
}

/**
 * One more attempt on Stripe's retry schedule: counts it and schedules the next automatic attempt
 * where the account's retry settings say so. True when that was the last one: the schedule is over.
 */
function countAttempt(core: Core, inv: Stripe.Invoice): boolean {
  inv.attempt_count += 1;
  if (inv.collection_method !== 'charge_automatically') {
    inv.next_payment_attempt = null;
    return false;
  }
  const retryInDays = core.settings.automaticRetryDays[inv.attempt_count - 1];
  if (retryInDays === undefined) {
    inv.next_payment_attempt = null;
    return true;
  }
  inv.next_payment_attempt = core.nowForCustomer(idOf(inv.customer as string)) + Math.round(retryInDays * 86_400);
  return false;
}

/**
 * Stripe's automatic retry at `next_payment_attempt`, with whatever payment method is the default
 * now. "Stripe doesn't retry payments if no payment methods are available [or] the issuer returned a
 * hard decline code" (docs.stripe.com/billing/revenue-recovery/smart-retries); and then "retries will
 * continue to be scheduled, and attempt_count will continue to increment, but retries will only be
 * executed if a new payment method is obtained" (docs.stripe.com/api/invoices/object#invoice_object-attempt_count).
 * So a retry with nothing new to charge charges nothing: the invoice only counts it (`invoice.updated`).
 */
function automaticRetry(core: Core, inv: Stripe.Invoice): void {
  const pmId = defaultPaymentMethodFor(core, inv);
  const hardDeclined = pmId !== null && (core.store.state.hardDeclined?.[inv.id] ?? []).includes(pmId);
  // The first attempt is made whatever there is to charge; only retries are skipped.
  if (inv.attempt_count === 0 || (pmId && !hardDeclined)) {
    inv.next_payment_attempt = null;
    attemptInvoicePayment(core, inv, pmId, 'automatic');
    return;
  }
  let exhausted = false;
  change(core, 'invoice.updated', inv, (i) => {
    exhausted = countAttempt(core, i);
  });
  if (exhausted) endOfRetries(core, inv);
}

/**
 * All of Stripe's retries failed: the account's "Manage failed payments" settings decide what
 * happens to the subscription (cancel, `unpaid`, or left `past_due`) and to the invoice (left past
 * due, or marked uncollectible). See docs.stripe.com/billing/revenue-recovery/smart-retries and the
 * subscription `status` docs: "Once Stripe has exhausted all payment retry attempts, the
 * subscription will become canceled or unpaid (depending on your subscriptions settings)".
 */
function endOfRetries(core: Core, inv: Stripe.Invoice): void {
  if (inv.status !== 'open') return;
  const sub = subscriptionOf(core, inv);
  if (!sub || sub.status !== 'past_due') return;
  const now = core.nowForCustomer(idOf(inv.customer as string));
  if (core.settings.subscriptionAfterRetries === 'cancel') cancelSubscription(core, sub, now, 'payment_failed', true);
  else if (core.settings.subscriptionAfterRetries === 'unpaid') setSubscriptionStatus(core, sub, 'unpaid');
  if (core.settings.invoiceAfterRetries === 'uncollectible') markUncollectible(core, inv, 'max_payment_attempts', { settle: false });
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

// ---------------------------------------------------------------------------------------------
// Subscriptions

export type PaymentBehavior = 'allow_incomplete' | 'error_if_incomplete' | 'default_incomplete';

export interface NewSubscription {
  customer: Stripe.Customer;
  items: Array<{ price: Stripe.Price; productName: string; quantity: number; metadata: Record<string, string> }>;
  defaultPaymentMethod: string | null;
  paymentBehavior: PaymentBehavior;
  collectionMethod: Stripe.Subscription.CollectionMethod;
  daysUntilDue: number | null;
  description: string | null;
  metadata: Record<string, string>;
  cancelAtPeriodEnd: boolean;
  trialEnd: number | null;
}

function productName(core: Core, price: Stripe.Price): string {
  return core.store.get('product', idOf(price.product as string)!)?.name ?? 'Product';
}

function subscriptionLines(core: Core, inv: Stripe.Invoice, sub: Stripe.Subscription, trial: boolean): Stripe.InvoiceLineItem[] {
  return sub.items.data.map((item) => {
    const line = buildSubscriptionLine({
      invoiceId: inv.id,
      subscription: sub,
      item,
      productName: productName(core, item.price),
      periodStart: item.current_period_start,
      periodEnd: item.current_period_end,
    });
    if (trial) {
      line.amount = 0;
      line.subtotal = 0;
      line.description = `Trial period for ${productName(core, item.price)}`;
    }
    return line;
  });
}

export function createSubscription(core: Core, f: NewSubscription): Stripe.Subscription {
  const now = core.nowForCustomer(f.customer.id);
  const id = newId('sub');
  const first = f.items[0]!.price.recurring!;
  const periodEnd = f.trialEnd ?? nextBoundary(now, first.interval as Interval, first.interval_count, now);
  const items = f.items.map((it) =>
    buildSubscriptionItem({
      subscription: id,
      created: now,
      price: it.price,
      quantity: it.quantity,
      periodStart: now,
      periodEnd,
      metadata: it.metadata,
    }),
  );
  const sub = buildSubscription({
    id,
    customer: f.customer.id,
    created: now,
    currency: f.items[0]!.price.currency,
    items,
    defaultPaymentMethod: f.defaultPaymentMethod,
    collectionMethod: f.collectionMethod,
    daysUntilDue: f.daysUntilDue,
    description: f.description,
    metadata: f.metadata,
    testClock: idOf(f.customer.test_clock ?? null),
  });
  if (f.trialEnd) {
    sub.trial_start = now;
    sub.trial_end = f.trialEnd;
    sub.billing_cycle_anchor = f.trialEnd;
    sub.status = 'trialing';
  } else if (f.collectionMethod === 'send_invoice') {
    sub.status = 'active';
  }
  if (f.cancelAtPeriodEnd) {
    sub.cancel_at_period_end = true;
    sub.cancel_at = periodEnd;
    sub.canceled_at = now;
  }
  core.store.put('subscription', sub);

  const inv = createDraftInvoice(core, {
    customer: f.customer,
    subscription: sub,
    billingReason: 'subscription_create',
    collectionMethod: f.collectionMethod,
    autoAdvance: true,
    description: null,
    metadata: {},
    defaultPaymentMethod: null,
    daysUntilDue: f.daysUntilDue,
    currency: sub.currency,
    periodStart: now,
    periodEnd: now,
  });
  setInvoiceLines(inv, subscriptionLines(core, inv, sub, f.trialEnd !== null));
  collectPendingItems(core, inv, sub.id);
  sub.latest_invoice = inv.id;
  core.emit('customer.subscription.created', sub);
  core.emit('invoice.created', inv);

  finalizeInvoice(core, inv);
  if (inv.status === 'open' && f.collectionMethod === 'charge_automatically' && f.paymentBehavior !== 'default_incomplete') {
    attemptInvoicePayment(core, inv, defaultPaymentMethodFor(core, inv), 'automatic');
  }
  return sub;
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
  core.emit('customer.subscription.deleted', sub);
}

/** Rolls a subscription into its next period at `at` (its current period end) and bills it. */
export function renewSubscription(core: Core, sub: Stripe.Subscription, at: number): void {
  if (sub.cancel_at_period_end || (sub.cancel_at !== null && sub.cancel_at <= at)) {
    cancelSubscription(core, sub, at, 'cancellation_requested', false);
    return;
  }
  const customer = core.store.get('customer', idOf(sub.customer as string)!)!;
  const first = sub.items.data[0]!;
  const recurring = first.price.recurring!;
  const oldStart = first.current_period_start;
  const newEnd = nextBoundary(sub.billing_cycle_anchor, recurring.interval as Interval, recurring.interval_count, at);
  const endingTrial = sub.status === 'trialing';

  // Invoice period is the one that just ended; its lines bill the period starting now.
  const inv = createDraftInvoice(core, {
    customer,
    subscription: sub,
    billingReason: 'subscription_cycle',
    collectionMethod: sub.collection_method,
    autoAdvance: true,
    description: null,
    metadata: {},
    defaultPaymentMethod: null,
    daysUntilDue: sub.days_until_due,
    currency: sub.currency,
    periodStart: oldStart,
    periodEnd: at,
  });
  const before = structuredClone(sub);
  for (const item of sub.items.data) {
    item.current_period_start = at;
    item.current_period_end = newEnd;
  }
  sub.latest_invoice = inv.id;
  if (endingTrial) sub.status = 'active';
  setInvoiceLines(inv, subscriptionLines(core, inv, sub, false));
  collectPendingItems(core, inv, sub.id);
  // The renewal invoice stays a draft for about an hour, then Stripe finalizes it and attempts
  // payment: "Stripe waits one hour after creation to finalize the invoice" when no webhook is
  // pending (docs.stripe.com/billing/subscriptions/webhooks#successful-invoice-finalization; the
  // invoice object's description). The draft says when (`automatically_finalizes_at`) and when
  // payment will be attempted (`next_payment_attempt`); `nextDue` does both at that time.
  const draftHour = !sub.pause_collection && sub.status !== 'unpaid';
  inv.automatically_finalizes_at = draftHour ? at + DRAFT_FINALIZE_DELAY_SECONDS : null;
  inv.next_payment_attempt = draftHour && sub.collection_method === 'charge_automatically' ? at + DRAFT_FINALIZE_DELAY_SECONDS : null;
  core.emit('invoice.created', inv);
  const prev = previousAttributes(before, sub);
  if (prev) core.emit('customer.subscription.updated', sub, prev);

  const pause = sub.pause_collection;
  if (pause) {
    if (pause.behavior === 'keep_as_draft') {
      inv.auto_advance = false;
      return;
    }
    finalizeInvoice(core, inv, false);
    if (inv.status !== 'open') return;
    if (pause.behavior === 'void') voidInvoice(core, inv);
    else markUncollectible(core, inv, 'subscription_paused');
    return;
  }
  if (sub.status === 'unpaid') {
    // "When a subscription has a status of unpaid, no subsequent invoices will be attempted
    // (invoices will be created, but then immediately automatically closed)" (subscription `status`).
    finalizeInvoice(core, inv, false);
    inv.next_payment_attempt = null;
    return;
  }
}

/**
 * When `invoice.upcoming` is due for the renewal at `periodEnd`: the configured days before it, once
 * per period, and only for a renewal that will be charged (not one that cancels, and not when the
 * period is shorter than the notice).
 */
function upcomingInvoiceAt(core: Core, sub: Stripe.Subscription, periodEnd: number): number | undefined {
  if (core.store.state.upcomingSentFor?.[sub.id] === periodEnd) return undefined;
  if (sub.cancel_at_period_end || (sub.cancel_at !== null && sub.cancel_at <= periodEnd)) return undefined;
  if (sub.collection_method !== 'charge_automatically') return undefined;
  const at = periodEnd - core.settings.upcomingInvoiceDays * 86_400;
  const periodStart = sub.items.data[0]?.current_period_start ?? sub.created;
  return at > periodStart ? at : undefined;
}

/** Stripe's `invoice.upcoming`: a preview of the renewal invoice, which has no id yet. */
export function emitUpcomingInvoice(core: Core, sub: Stripe.Subscription, periodEnd: number): void {
  (core.store.state.upcomingSentFor ??= {})[sub.id] = periodEnd;
  const customer = core.store.get('customer', idOf(sub.customer as string)!);
  if (!customer) return;
  const recurring = sub.items.data[0]!.price.recurring!;
  const nextEnd = nextBoundary(sub.billing_cycle_anchor, recurring.interval as Interval, recurring.interval_count, periodEnd);
  const preview = buildInvoice({
    customer,
    created: core.nowForCustomer(customer.id),
    currency: sub.currency,
    billingReason: 'upcoming',
    collectionMethod: sub.collection_method,
    subscription: sub,
    periodStart: sub.items.data[0]!.current_period_start,
    periodEnd,
    autoAdvance: true,
    description: null,
    metadata: {},
    defaultPaymentMethod: null,
    daysUntilDue: sub.days_until_due,
  });
  const lines = subscriptionLines(core, preview, sub, false);
  for (const line of lines) line.period = { start: periodEnd, end: nextEnd };
  setInvoiceLines(preview, lines);
  preview.next_payment_attempt = periodEnd;
  preview.webhooks_delivered_at = null;
  // An upcoming invoice is a preview: Stripe sends it without an id, and its lines have none of their own invoice.
  delete (preview as Partial<Stripe.Invoice>).id;
  (preview.lines as { url: string }).url = `/v1/invoices/upcoming/lines?subscription=${sub.id}`;
  for (const line of preview.lines.data) line.invoice = null;
  core.emit('invoice.upcoming', preview);
}

function expireIncomplete(core: Core, sub: Stripe.Subscription): void {
  const inv = sub.latest_invoice ? core.store.get('invoice', idOf(sub.latest_invoice)!) : undefined;
  if (inv && inv.status === 'open') voidInvoice(core, inv);
  setSubscriptionStatus(core, sub, 'incomplete_expired');
}

// ---------------------------------------------------------------------------------------------
// Time passing

interface Due {
  at: number;
  run: () => void;
}

function nextDue(core: Core, clockId: string | null, upTo: number): Due | undefined {
  let best: Due | undefined;
  const consider = (at: number | null | undefined, run: () => void) => {
    if (at === null || at === undefined || at > upTo) return;
    if (!best || at < best.at) best = { at, run };
  };
  for (const sub of core.store.where('subscription', 'test_clock', clockId)) {
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') continue;
    if (sub.status === 'incomplete') {
      consider(sub.created + INCOMPLETE_EXPIRY_SECONDS, () => expireIncomplete(core, sub));
      continue;
    }
    const periodEnd = sub.items.data[0]?.current_period_end;
    if (sub.cancel_at !== null && periodEnd !== undefined && sub.cancel_at < periodEnd) {
      consider(sub.cancel_at, () => cancelSubscription(core, sub, sub.cancel_at!, 'cancellation_requested', false));
    }
    const resumesAt = sub.pause_collection?.resumes_at;
    if (resumesAt) {
      consider(resumesAt, () =>
        change(core, 'customer.subscription.updated', sub, (s) => {
          s.pause_collection = null;
        }),
      );
    }
    if (periodEnd !== undefined) {
      const upcomingAt = upcomingInvoiceAt(core, sub, periodEnd);
      if (upcomingAt !== undefined) consider(upcomingAt, () => emitUpcomingInvoice(core, sub, periodEnd));
      consider(periodEnd, () => renewSubscription(core, sub, periodEnd));
    }
  }
  for (const inv of core.store.where('invoice', 'test_clock', clockId)) {
    if (inv.status === 'open' && inv.next_payment_attempt !== null && inv.auto_advance !== false) {
      // Stripe's own automatic attempt: a renewal finalized by hand during its draft hour, or a retry.
      consider(inv.next_payment_attempt, () => automaticRetry(core, inv));
    }
    if (inv.status !== 'draft' || !inv.auto_advance || inv.automatically_finalizes_at === null) continue;
    consider(inv.automatically_finalizes_at, () => {
      finalizeInvoice(core, inv);
      if (inv.status === 'open' && inv.collection_method === 'charge_automatically') {
        inv.next_payment_attempt = null;
        attemptInvoicePayment(core, inv, defaultPaymentMethodFor(core, inv), 'automatic');
      }
    });
  }
  return best;
}

/**
 * Runs everything due on `clockId` (null: objects on real time) up to `upTo`, in time order,
 * moving the clock to each moment first so objects and events carry that time.
 */
export function processDue(core: Core, clockId: string | null, upTo: number): number {
  const clock = clockId ? core.store.get('test_clock', clockId) : undefined;
  let steps = 0;
  for (; steps < 10_000; steps++) {
    const due = nextDue(core, clockId, upTo);
    if (!due) break;
    if (clock && due.at > clock.frozen_time) clock.frozen_time = due.at;
    // What time causes, Stripe does by itself: its events carry no request (request.id null).
    const request = core.request;
    core.request = { id: null, idempotencyKey: null };
    try {
      due.run();
    } finally {
      core.request = request;
    }
  }
  if (steps > 0) core.store.scheduleSave();
  return steps;
}

export function advanceClock(core: Core, clock: Stripe.TestHelpers.TestClock, target: number): void {
  clock.status = 'advancing';
  clock.status_details = { advancing: { target_frozen_time: target } } as Stripe.TestHelpers.TestClock.StatusDetails;
  core.emit('test_helpers.test_clock.advancing', clock);
  processDue(core, clock.id, target);
  clock.frozen_time = target;
  clock.status = 'ready';
  clock.status_details = {} as Stripe.TestHelpers.TestClock.StatusDetails;
  core.emit('test_helpers.test_clock.ready', clock);
}
