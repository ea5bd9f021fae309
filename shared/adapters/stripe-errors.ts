// The one place Stripe's errors are sorted, for every call of the Stripe adapter, pay included: a
// decline is an outcome, Stripe being unavailable is retried, and a request Stripe refuses is a
// permanent error.
import Stripe from 'stripe';
import { OverBudgetError, StripeRateLimitedError, StripeRequestError, StripeUnavailableError } from '../domain/errors.ts';
import { NO_PAYMENT_METHOD, PAYMENT_METHOD_DETACHED, type PaymentFailure, type PayOutcome } from '../domain/ports.ts';

export type StripeErrorLike = {
  type?: string;
  code?: string;
  decline_code?: string;
  advice_code?: string;
  network_advice_code?: string;
  network_decline_code?: string;
  /** The PaymentMethod the attempt charged (docs.stripe.com/api/errors#errors-payment_method). */
  payment_method?: unknown;
  /** The PaymentIntent, for an error on a request that involved one (docs.stripe.com/api/errors#errors-payment_intent). */
  payment_intent?: unknown;
  statusCode?: number;
  message?: string;
  /** A connection error's cause, as the SDK keeps it. */
  detail?: unknown;
};

/** What a decline says beyond its codes, for the retry rules. */
export type DeclineDetails = Pick<PaymentFailure, 'networkAdviceCode' | 'cardBrand' | 'outcomeType' | 'outcomeReason' | 'networkStatus'>;

type ChargeLike = {
  outcome?: { type?: string | null; reason?: string | null; network_status?: string | null; network_advice_code?: string | null } | null;
  payment_method_details?: { card?: { brand?: string | null } | null } | null;
};

/**
 * The network's advice, the card's brand and the charge's outcome of a failed attempt, from a card
 * error or a `last_payment_error` (both carry `network_advice_code` and the `payment_method` object,
 * docs.stripe.com/api/errors) and the intent's `latest_charge`. The charge's outcome is read only
 * when that charge came expanded: an id alone would cost a request, and these are read without one.
 */
export function declineDetails(error: { network_advice_code?: string | null; payment_method?: unknown }, latestCharge: unknown): DeclineDetails {
  const charge = typeof latestCharge === 'object' && latestCharge !== null ? (latestCharge as ChargeLike) : undefined;
  const outcome = charge?.outcome ?? undefined;
  const card = (error.payment_method as { card?: { brand?: string | null } | null } | null | undefined)?.card;
  return {
    networkAdviceCode: error.network_advice_code || outcome?.network_advice_code || undefined,
    cardBrand: card?.brand || charge?.payment_method_details?.card?.brand || undefined,
    outcomeType: outcome?.type || undefined,
    outcomeReason: outcome?.reason || undefined,
    networkStatus: outcome?.network_status || undefined,
  };
}

/** The `latest_charge` of the payment intent a card error carries, if it carries one. */
function latestChargeOf(paymentIntent: unknown): unknown {
  return typeof paymentIntent === 'object' && paymentIntent !== null ? (paymentIntent as { latest_charge?: unknown }).latest_charge : undefined;
}

export function asStripeError(err: unknown): StripeErrorLike | undefined {
  return err instanceof Stripe.errors.StripeError ? (err as StripeErrorLike) : undefined;
}

/** Stripe answers 400 "Invoice is already paid" (no dedicated code in the SDK's list). */
function isAlreadyPaid(e: StripeErrorLike): boolean {
  return e.type === 'StripeInvalidRequestError' && (e.code === 'invoice_already_paid' || /already paid/i.test(e.message ?? ''));
}

/**
 * Stripe refuses to pay an invoice when nothing can be charged: 400 `invalid_request_error`, "This
 * customer has no attached payment source or default payment method…" (its code, `resource_missing`,
 * is shared with every missing object, so the message tells it apart). Stripe looks for a payment
 * method in a fixed order (docs.stripe.com/billing/subscriptions/payment-methods-setting#payment-method-priority)
 * and found none: the customer removed their card.
 */
function isNoPaymentMethod(e: StripeErrorLike): boolean {
  return e.type === 'StripeInvalidRequestError' && /no attached payment source or default payment method/i.test(e.message ?? '');
}

/**
 * Stripe refuses to charge a card the customer has detached: 400 `invalid_request_error`, "The
 * provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared
 * with a connected account without Customer attachment, or was detached from a Customer. It may not
 * be used again…", with no code of its own (docs.stripe.com/api/payment_methods/detach: a detached
 * card can no longer pay). An invoice may still name it, or its payment_method.detached be on its way.
 */
function isDetachedPaymentMethod(e: StripeErrorLike): boolean {
  return e.type === 'StripeInvalidRequestError' && /detached from a Customer\. It may not be used again/i.test(e.message ?? '');
}

export type Classified =
  | { kind: 'declined'; outcome: Extract<PayOutcome, { outcome: 'declined' }> }
  | { kind: 'already_paid' }
  | { kind: 'error'; error: Error };

/** The one place Stripe's errors are sorted: for every call, pay included. */
export function classify(err: unknown): Classified {
  const e = asStripeError(err);
  // Not from the SDK's HTTP layer (e.g. a bug in a caller): pass it through untouched.
  if (!e) return { kind: 'error', error: err instanceof Error ? err : new Error(String(err)) };
  const message = e.message ?? 'Stripe error';
  switch (e.type) {
    // The SDK fills a missing decline_code with '', hence `||`.
    case 'StripeCardError':
      return {
        kind: 'declined',
        outcome: {
          outcome: 'declined',
          code: e.code ?? 'card_declined',
          declineCode: e.decline_code || undefined,
          adviceCode: e.advice_code || undefined,
          networkDeclineCode: e.network_decline_code || undefined,
          ...declineDetails(e, latestChargeOf(e.payment_intent)),
          message,
        },
      };
    case 'StripeRateLimitError':
      // Over Stripe's limit (the merchant's own traffic shares it): wait, patiently.
      return { kind: 'error', error: new StripeRateLimitedError(message) };
    case 'StripeConnectionError':
      // Our own budget said "not now" before the request left (the SDK reports any failure of its
      // HTTP client as a connection error, keeping the cause as `detail`).
      if (e.detail instanceof OverBudgetError) return { kind: 'error', error: e.detail };
      return { kind: 'error', error: new StripeUnavailableError(message, e.statusCode) };
    case 'StripeAPIError':
      return { kind: 'error', error: new StripeUnavailableError(message, e.statusCode) };
  }
  if (e.statusCode !== undefined && e.statusCode >= 500) {
    return { kind: 'error', error: new StripeUnavailableError(message, e.statusCode) };
  }
  if (isAlreadyPaid(e)) return { kind: 'already_paid' };
  // The card went between our read and the pay: as a decline, so the sequence goes on asking for one.
  if (isNoPaymentMethod(e)) return { kind: 'declined', outcome: { outcome: 'declined', code: NO_PAYMENT_METHOD, message } };
  // The card was detached before its event reached us: a decline that blocks it, not an error.
  if (isDetachedPaymentMethod(e)) return { kind: 'declined', outcome: { outcome: 'declined', code: PAYMENT_METHOD_DETACHED, message } };
  // Invalid request, authentication, permission, idempotency misuse: retrying cannot fix these.
  return { kind: 'error', error: new StripeRequestError(message, e.code, e.statusCode) };
}
