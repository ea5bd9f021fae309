// Stripe's test payment-method tokens and what charging each one does, with the messages and
// decline codes Stripe returns for them.

export interface Decline {
  code: string;
  decline_code: string;
  message: string;
  /** Off-session charges that need the customer to authenticate (3DS). */
  requiresAction?: boolean;
}

export interface TestCard {
  /** The name Stripe's testing docs give the PaymentMethod (docs.stripe.com/testing#declined-payments). */
  token: string;
  /** Other spellings Stripe accepts for the same card. */
  aliases?: readonly string[];
  label: string;
  brand: 'visa' | 'mastercard' | 'amex';
  number: string;
  funding: 'credit' | 'debit';
  /** What the hosted pages say the card does. */
  behaviour: string;
  decline?: Decline;
}

const DECLINED = 'Your card was declined.';

export const TEST_CARDS: readonly TestCard[] = [
  { token: 'pm_card_visa', label: 'Visa', brand: 'visa', number: '4242424242424242', funding: 'credit', behaviour: 'Succeeds.' },
  {
    token: 'pm_card_mastercard',
    label: 'Mastercard',
    brand: 'mastercard',
    number: '5555555555554444',
    funding: 'credit',
    behaviour: 'Succeeds.',
  },
  { token: 'pm_card_visa_debit', label: 'Visa (debit)', brand: 'visa', number: '4000056655665556', funding: 'debit', behaviour: 'Succeeds.' },
  { token: 'pm_card_amex', label: 'American Express', brand: 'amex', number: '378282246310005', funding: 'credit', behaviour: 'Succeeds.' },
  {
    token: 'pm_card_chargeCustomerFail',
    label: 'Visa ending 0341',
    brand: 'visa',
    number: '4000000000000341',
    funding: 'credit',
    behaviour: 'Saves fine, every charge is declined (generic_decline).',
    decline: { code: 'card_declined', decline_code: 'generic_decline', message: DECLINED },
  },
  {
    token: 'pm_card_chargeDeclinedInsufficientFunds',
    label: 'Visa ending 9995',
    brand: 'visa',
    number: '4000000000009995',
    funding: 'credit',
    behaviour: 'Charges are declined for insufficient funds.',
    decline: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  },
  {
    token: 'pm_card_chargeDeclinedExpiredCard',
    label: 'Visa ending 0069',
    brand: 'visa',
    number: '4000000000000069',
    funding: 'credit',
    behaviour: 'Charges are declined: the card has expired.',
    decline: { code: 'expired_card', decline_code: 'expired_card', message: 'Your card has expired.' },
  },
  {
    token: 'pm_card_visa_chargeDeclinedLostCard',
    aliases: ['pm_card_chargeDeclinedLostCard'],
    label: 'Visa ending 9987',
    brand: 'visa',
    number: '4000000000009987',
    funding: 'credit',
    behaviour: 'Charges are declined: card reported lost (hard decline).',
    decline: { code: 'card_declined', decline_code: 'lost_card', message: DECLINED },
  },
  {
    token: 'pm_card_visa_chargeDeclinedStolenCard',
    aliases: ['pm_card_chargeDeclinedStolenCard'],
    label: 'Visa ending 9979',
    brand: 'visa',
    number: '4000000000009979',
    funding: 'credit',
    behaviour: 'Charges are declined: card reported stolen (hard decline).',
    decline: { code: 'card_declined', decline_code: 'stolen_card', message: DECLINED },
  },
  {
    token: 'pm_card_chargeDeclinedFraudulent',
    label: 'Visa ending 0019',
    brand: 'visa',
    number: '4100000000000019',
    funding: 'credit',
    behaviour: 'Charges are declined as fraudulent (hard decline).',
    decline: { code: 'card_declined', decline_code: 'fraudulent', message: DECLINED },
  },
  {
    token: 'pm_card_authenticationRequired',
    label: 'Visa ending 3184 (3D Secure)',
    brand: 'visa',
    number: '4000002760003184',
    funding: 'credit',
    behaviour: 'Off-session charges need the customer to authenticate (authentication_required).',
    decline: {
      code: 'authentication_required',
      decline_code: 'authentication_required',
      message: 'Your card was declined. This transaction requires authentication.',
      requiresAction: true,
    },
  },
];

export function testCard(token: string): TestCard | undefined {
  return TEST_CARDS.find((c) => c.token === token || c.aliases?.includes(token));
}

export function isTestToken(value: string): boolean {
  return testCard(value) !== undefined;
}

/**
 * Decline codes after which Stripe's automatic retries do not charge the same payment method again
 * ("Stripe doesn't retry payments if … the issuer returned a hard decline code",
 * docs.stripe.com/billing/revenue-recovery/smart-retries): the issuer says the card will not be
 * approved (lost, stolen, picked up, fraudulent, closed or revoked), however often it is tried.
 */
export const NON_RETRYABLE_DECLINE_CODES: ReadonlySet<string> = new Set([
  'lost_card',
  'stolen_card',
  'pickup_card',
  'fraudulent',
  'incorrect_number',
  'invalid_account',
  'restricted_card',
  'do_not_try_again',
  'revocation_of_authorization',
  'revocation_of_all_authorizations',
  'security_violation',
  'stop_payment_order',
  'transaction_not_allowed',
  'card_not_supported',
  'currency_not_supported',
  'merchant_blacklist',
]);
