// Which declines block a case's card, and how a decline reads on the timeline. Which declines mean
// "this card will not work again" is the retry rules' classification (shared/retries/classify.ts,
// after Stripe's decline codes and advice codes); this file applies it to a case's card.
import { AUTHENTICATION_REQUIRED, NO_PAYMENT_METHOD, type PaymentFailure } from '../domain/ports.ts';
import { classifyFailure } from '../retries/classify.ts';

/**
 * What `invoices.pay` answers when the bank wants the customer to authenticate: a 402 card error with
 * this code and no decline code; the invoice's payment intent waits in `requires_action`
 * (docs.stripe.com/error-codes, docs.stripe.com/billing/subscriptions/overview#requires-action).
 */
export const INVOICE_REQUIRES_ACTION = 'invoice_payment_intent_requires_action';

/**
 * The code a card is blocked under after this failure, or undefined when it may be tried again: any
 * failure the retry rules say stops the card (shared/retries/classify.ts: a hard decline, the
 * issuer's `do_not_try_again` or `confirm_card_data`, Mastercard's advice 03 or 21, Visa's "never
 * approve" codes, a Radar block, data only the customer can correct, a request to authenticate).
 * Blocked under its own decline code, so a reissue that fixes that reason still lifts it; a request
 * for authentication under AUTHENTICATION_REQUIRED. A failure with no card to block (none on file)
 * blocks nothing.
 */
export function blockingCode(failure: Omit<PaymentFailure, 'message' | 'paymentMethod'>): string | undefined {
  if (failure.code === NO_PAYMENT_METHOD) return undefined;
  const classified = classifyFailure(failure);
  if (!classified.stopsCard) return undefined;
  if (failure.code === AUTHENTICATION_REQUIRED || failure.code === INVOICE_REQUIRES_ACTION || failure.declineCode === AUTHENTICATION_REQUIRED) return AUTHENTICATION_REQUIRED;
  return failure.declineCode ?? failure.code ?? failure.adviceCode;
}

/** One line for the case's timeline, e.g. "card_declined: stolen_card, advice do_not_try_again, network 43". */
export function describeFailure(failure: Omit<PaymentFailure, 'paymentMethod' | 'message'>): string {
  const reasons = [
    failure.declineCode && failure.declineCode !== failure.code ? failure.declineCode : undefined,
    failure.adviceCode ? `advice ${failure.adviceCode}` : undefined,
    failure.networkDeclineCode ? `network ${failure.networkDeclineCode}` : undefined,
  ].filter((r): r is string => r !== undefined);
  const code = failure.code ?? 'declined';
  return reasons.length > 0 ? `${code}: ${reasons.join(', ')}` : code;
}

/**
 * Blocks that the issuer's reissue of the card fixes. When Stripe updates a card in place
 * (`payment_method.automatically_updated`: same payment method, new number or expiry), a card
 * blocked as lost, stolen, picked up, mistyped or expired (blocked when the issuer advised not to
 * try it again) is a new card and may be charged again. A block for fraud, a revoked authorisation,
 * a restriction or 3-D Secure is about the account or the customer, and a new number changes none of it.
 */
export const REISSUE_CLEARS: ReadonlySet<string> = new Set(['lost_card', 'stolen_card', 'pickup_card', 'incorrect_number', 'expired_card']);

export function reissueClears(code: string | undefined): boolean {
  return code !== undefined && REISSUE_CLEARS.has(code);
}
