// Why a payment failed, as a class the retry rules act on: never this card again, later (and when),
// only once the customer acts, no card at all, or a processing fault. Pure: it reads what Stripe
// returned (the error or the payment intent's last_payment_error, and the charge's outcome) and
// nothing else. The sources of each rule are cited beside it; the README's "Which failures are
// retried" lists them.
import type { PaymentFailure } from '../domain/ports-stripe.ts';
import { AUTHENTICATION_REQUIRED, NO_PAYMENT_METHOD, PAYMENT_METHOD_DETACHED } from '../domain/ports-stripe.ts';
import type { Classification, DeclineClass, RetryTimingHint } from '../domain/retry-records.ts';

export type { Classification, DeclineClass, RetryTimingHint } from '../domain/retry-records.ts';

export const DECLINE_CLASSES: readonly DeclineClass[] = ['hard', 'retry_later', 'needs_customer', 'no_payment_method', 'processing_error'];


/**
 * Stripe decline codes no retry of the same card fixes (docs.stripe.com/declines/codes: "the
 * customer needs to use another card" or "should not be retried"), and Visa's category 1, "issuer
 * will never approve" (Visa Core Rules; e.g. checkout.com/docs/developer-resources/codes/visa-response-codes).
 */
const HARD_CODES: ReadonlySet<string> = new Set([
  'card_not_supported',
  'currency_not_supported',
  'do_not_try_again',
  'fraudulent',
  'invalid_account',
  'invalid_amount',
  'lost_card',
  'merchant_blacklist',
  'not_permitted',
  'pickup_card',
  'restricted_card',
  'revocation_of_all_authorizations',
  'revocation_of_authorization',
  'security_violation',
  'service_not_allowed',
  'stolen_card',
  'stop_payment_order',
  'testmode_decline',
  'transaction_not_allowed',
]);

/**
 * Codes only the customer can clear (docs.stripe.com/declines/codes): wrong or outdated card data
 * (Visa's category 3, "data quality"), a card that needs a PIN, new account details, or a bank that
 * wants the customer to authenticate (docs.stripe.com/billing/subscriptions/overview#requires-action).
 */
const CUSTOMER_CODES: ReadonlySet<string> = new Set([
  AUTHENTICATION_REQUIRED,
  'invoice_payment_intent_requires_action',
  'expired_card',
  'incorrect_cvc',
  'incorrect_number',
  'incorrect_pin',
  'incorrect_zip',
  'invalid_cvc',
  'invalid_expiry_month',
  'invalid_expiry_year',
  'invalid_number',
  'invalid_pin',
  'new_account_information_available',
  'offline_pin_required',
  'online_or_offline_pin_required',
  'pin_try_exceeded',
]);

/** A fault on the way, not the issuer's no (docs.stripe.com/declines/codes: "try again"). */
const PROCESSING_CODES: ReadonlySet<string> = new Set(['processing_error', 'issuer_not_available', 'reenter_transaction', 'duplicate_transaction']);

/** The money or the card's limit is short: likely to pass once funds arrive. */
const FUNDS_CODES: ReadonlySet<string> = new Set(['insufficient_funds', 'card_velocity_exceeded', 'withdrawal_count_limit_exceeded']);

/**
 * Visa response codes by decline category (Visa Core Rules, "Visa decline response codes"; listed at
 * checkout.com/docs/developer-resources/codes/visa-response-codes and docs.bill1st.com/docs/mac-response-codes).
 * Category 1 (never approve): no reattempt at all. Category 3 (data quality): only after the data changes.
 */
const VISA_NEVER_APPROVE: ReadonlySet<string> = new Set(['04', '07', '12', '14', '15', '41', '43', '46', '57', 'R0', 'R1', 'R3']);
const VISA_DATA_QUALITY: ReadonlySet<string> = new Set(['54', '55', '6P', '70', '82', 'N7', '1A']);

/**
 * Mastercard merchant advice codes, as Stripe passes them in `network_advice_code`
 * (docs.stripe.com/changelog/acacia/2024-12-18/network-advice-code-network-decline-code; the values
 * per Mastercard's Transaction Processing Excellence program, e.g. developers.tabapay.com/docs/merchant-advice-code):
 * 01 new account information, 02 try again later, 03 do not try again, 21 payment cancellation
 * (the cardholder stopped the recurring payment), 24–30 retry after 1 hour … 10 days. A reattempt
 * after 03 or 21 within 30 days is charged a fee.
 */
const MAC_AFTER_HOURS: Readonly<Record<string, number>> = { '24': 1, '25': 24, '26': 48, '27': 96, '28': 144, '29': 192, '30': 240 };

export function classifyFailure(failure: Omit<PaymentFailure, 'message' | 'paymentMethod'>): Classification {
  const code = failure.declineCode ?? failure.code ?? 'card_declined';
  const visa = failure.cardBrand === 'visa' ? failure.networkDeclineCode : undefined;
  const mac = failure.networkAdviceCode;
  const hard = (reason: string): Classification => ({ class: 'hard', code, reason, stopsCard: true });
  const customer = (reason: string): Classification => ({ class: 'needs_customer', code, reason, stopsCard: true });

  if (failure.code === NO_PAYMENT_METHOD || failure.code === PAYMENT_METHOD_DETACHED) {
    return { class: 'no_payment_method', code: failure.code, reason: failure.code === NO_PAYMENT_METHOD ? 'no card on file' : 'the card was removed', stopsCard: true };
  }
  // The bank wants the customer: an off-session charge cannot pass, whatever else it said.
  if (failure.code === AUTHENTICATION_REQUIRED || failure.code === 'invoice_payment_intent_requires_action' || code === AUTHENTICATION_REQUIRED) {
    return customer('the bank wants the customer to authenticate (3-D Secure)');
  }
  // Stopping signals first, from the strongest source: the issuer's own advice, the network's, the code.
  if (failure.adviceCode === 'do_not_try_again') return hard(`do_not_try_again from the issuer (${code})`);
  if (mac === '03') return hard(`Mastercard advice 03, do not try again (${code})`);
  if (mac === '21') return hard(`Mastercard advice 21, the cardholder cancelled the payment (${code})`);
  if (visa && VISA_NEVER_APPROVE.has(visa)) return hard(`Visa ${visa}, issuer will never approve (${code})`);
  // Radar stopped it before the network: it stops the same card again (docs.stripe.com/declines/how-declines-work#blocked-payments).
  if (failure.outcomeType === 'blocked') return hard(`blocked by Stripe Radar (${code})`);
  if (failure.outcomeType === 'invalid') return hard(`Stripe found the payment invalid (${code})`);
  if (HARD_CODES.has(code)) return hard(code);
  if (failure.adviceCode === 'confirm_card_data') return customer(`confirm_card_data from the issuer (${code})`);
  if (mac === '01') return customer(`Mastercard advice 01, new account information needed (${code})`);
  if (visa && VISA_DATA_QUALITY.has(visa)) return customer(`Visa ${visa}, card data to correct (${code})`);
  if (CUSTOMER_CODES.has(code)) return customer(code);

  if (PROCESSING_CODES.has(code) || failure.code === 'processing_error') {
    return { class: 'processing_error', code, reason: `${code}; backing off`, timing: 'backoff', stopsCard: false };
  }
  const later = (timing: RetryTimingHint, reason: string, afterHours?: number): Classification => ({
    class: 'retry_later',
    code,
    reason,
    timing,
    ...(afterHours !== undefined ? { afterHours } : {}),
    stopsCard: false,
  });
  const after = mac !== undefined ? MAC_AFTER_HOURS[mac] : undefined;
  if (after !== undefined) return later('after', `Mastercard advice ${mac}, retry after ${describeHours(after)} (${code})`, after);
  if (FUNDS_CODES.has(code)) return later('payday', code);
  // Stripe: "try_again_later" means the same card may pass later (docs.stripe.com/declines/card#retrying-issuer-declines).
  if (failure.adviceCode === 'try_again_later' || code === 'try_again_later') return later('backoff', `${code}; try_again_later from the issuer`);
  if (mac === '02') return later('backoff', `Mastercard advice 02, try again later (${code})`);
  return later('standard', code);
}

export function describeHours(hours: number): string {
  if (hours % 24 === 0) return hours === 24 ? '24 hours' : `${hours / 24} days`;
  return hours === 1 ? '1 hour' : `${hours} hours`;
}
