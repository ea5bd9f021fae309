// Which declines mean "this card will not work again": retrying it only costs the customer's bank's
// goodwill. Pure data and a predicate, after Stripe's decline-code documentation.

/** Stripe decline codes a retry of the same card cannot fix. */
export const HARD_DECLINE_CODES: ReadonlySet<string> = new Set([
  'lost_card',
  'stolen_card',
  'pickup_card',
  'fraudulent',
  'restricted_card',
  'invalid_account',
  'card_not_supported',
  'currency_not_supported',
  'do_not_try_again',
  'incorrect_number',
  'revocation_of_all_authorizations',
  'revocation_of_authorization',
  'security_violation',
  'stop_payment_order',
  'transaction_not_allowed',
]);

/** The customer must act (3-D Secure): an off-session charge of this card cannot succeed. */
export const AUTHENTICATION_REQUIRED = 'authentication_required';

/** True when the same card must not be charged again until the customer changes it. */
export function blocksCard(code: string | undefined): boolean {
  return code !== undefined && (HARD_DECLINE_CODES.has(code) || code === AUTHENTICATION_REQUIRED);
}
