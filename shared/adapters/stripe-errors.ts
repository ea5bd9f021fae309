// The one place Stripe's errors are sorted, for every call of the Stripe adapter, pay included: a
// decline is an outcome, Stripe being unavailable is retried, and a request Stripe refuses is a
// permanent error.
import Stripe from 'stripe';
import { StripeRequestError, StripeUnavailableError } from '../domain/errors.ts';
import { NO_PAYMENT_METHOD, PAYMENT_METHOD_DETACHED, type PayOutcome } from '../domain/ports.ts';

export type StripeErrorLike = {
  type?: string;
  code?: string;
  decline_code?: string;
  advice_code?: string;
  network_decline_code?: string;
  statusCode?: number;
  message?: string;
};

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
          message,
        },
      };
    case 'StripeRateLimitError':
    case 'StripeAPIError':
    case 'StripeConnectionError':
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
