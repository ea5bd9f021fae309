// Payment attempts on an open invoice: charging the card (or waiting on 3-D Secure), recording a
// failure, Stripe's automatic retries and what the account does when they are over.
import type Stripe from 'stripe';
import { NON_RETRYABLE_DECLINE_CODES, type Decline } from '../cards.ts';
import type { Core } from '../core.ts';
import { idOf } from '../lookup.ts';
import { buildCharge } from '../objects/payment.ts';
import { chargeOutcome } from '../wallet.ts';
import { countsAsAttempt, markInvoicePaid, markUncollectible, type AttemptKind } from './invoices.ts';
import { cancelSubscription, change, defaultPaymentMethodFor, paymentIntentOf, refreshDelinquency, setSubscriptionStatus, subscriptionOf } from './state.ts';

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
export function automaticRetry(core: Core, inv: Stripe.Invoice): void {
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
