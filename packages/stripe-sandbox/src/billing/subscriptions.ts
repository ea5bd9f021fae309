// Subscriptions: creating one with its first invoice, renewing it at each period end (the draft
// hour, paused collection, unpaid), Stripe's `invoice.upcoming`, and expiring an incomplete one.
import type Stripe from 'stripe';
import { previousAttributes, type Core } from '../core.ts';
import { newId } from '../ids.ts';
import { idOf } from '../lookup.ts';
import { buildInvoice, buildSubscriptionLine, setInvoiceLines } from '../objects/invoice.ts';
import { buildSubscription, buildSubscriptionItem } from '../objects/subscription.ts';
import { nextBoundary, type Interval } from '../time.ts';
import {
  collectPendingItems,
  createDraftInvoice,
  DRAFT_FINALIZE_DELAY_SECONDS,
  finalizeInvoice,
  markUncollectible,
  voidInvoice,
} from './invoices.ts';
import { attemptInvoicePayment } from './payments.ts';
import { cancelSubscription, defaultPaymentMethodFor, setSubscriptionStatus } from './state.ts';

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
export function upcomingInvoiceAt(core: Core, sub: Stripe.Subscription, periodEnd: number): number | undefined {
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

export function expireIncomplete(core: Core, sub: Stripe.Subscription): void {
  const inv = sub.latest_invoice ? core.store.get('invoice', idOf(sub.latest_invoice)!) : undefined;
  if (inv && inv.status === 'open') voidInvoice(core, inv);
  setSubscriptionStatus(core, sub, 'incomplete_expired');
}
