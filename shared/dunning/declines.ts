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

/**
 * Blocks that the issuer's reissue of the card fixes. When Stripe updates a card in place
 * (`payment_method.automatically_updated`: same payment method, new number or expiry), a card
 * blocked as lost, stolen, picked up or mistyped is a new card and may be charged again. A block
 * for fraud, a revoked authorisation, a restriction or 3-D Secure is about the account or the
 * customer, and a new number changes none of it.
 */
export const REISSUE_CLEARS: ReadonlySet<string> = new Set(['lost_card', 'stolen_card', 'pickup_card', 'incorrect_number']);

export function reissueClears(code: string | undefined): boolean {
  return code !== undefined && REISSUE_CLEARS.has(code);
}
