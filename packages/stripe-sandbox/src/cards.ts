// Stripe's test payment-method tokens and what charging each one does, with the messages and
// decline codes Stripe returns for them.

/**
 * How a charge of the card fails. Stripe's decline codes (docs.stripe.com/declines/codes) and test
 * cards (docs.stripe.com/testing#declined-payments, #fraud-prevention); the issuer's advice
 * (docs.stripe.com/declines/card#retrying-issuer-declines) and the network's code
 * (docs.stripe.com/declines/network-codes, Visa's response codes) are those each reason calls for:
 * Stripe's testing page does not list them per card.
 */
export interface Decline {
  code: string;
  decline_code: string;
  message: string;
  /** The issuer's advice: absent when the payment never reached the issuer (a Radar block). */
  advice_code?: 'try_again_later' | 'do_not_try_again' | 'confirm_card_data';
  /** The card network's own reason code, when the network declined it. */
  network_decline_code?: string;
  /**
   * `issuer_declined` (the bank said no) or `blocked` (Stripe's Radar stopped it before the network;
   * docs.stripe.com/declines/how-declines-work#blocked-payments).
   */
  outcome: 'issuer_declined' | 'blocked';
  /**
   * The bank wants the customer to authenticate (3-D Secure): no charge is made, the payment
   * intent waits in `requires_action` (docs.stripe.com/billing/subscriptions/overview#requires-action).
   */
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

/** An issuer's decline, with the advice and network code its reason calls for. */
function issuer(
  code: string,
  declineCode: string,
  message: string,
  advice: NonNullable<Decline['advice_code']>,
  network: string,
): Decline {
  return { code, decline_code: declineCode, message, advice_code: advice, network_decline_code: network, outcome: 'issuer_declined' };
}

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
    decline: issuer('card_declined', 'generic_decline', DECLINED, 'try_again_later', '05'),
  },
  {
    token: 'pm_card_visa_chargeDeclined',
    aliases: ['pm_card_chargeDeclined'],
    label: 'Visa ending 0002',
    brand: 'visa',
    number: '4000000000000002',
    funding: 'credit',
    behaviour: 'Charges are declined (generic_decline).',
    decline: issuer('card_declined', 'generic_decline', DECLINED, 'try_again_later', '05'),
  },
  {
    token: 'pm_card_visa_chargeDeclinedInsufficientFunds',
    aliases: ['pm_card_chargeDeclinedInsufficientFunds'],
    label: 'Visa ending 9995',
    brand: 'visa',
    number: '4000000000009995',
    funding: 'credit',
    behaviour: 'Charges are declined for insufficient funds.',
    decline: issuer('card_declined', 'insufficient_funds', 'Your card has insufficient funds.', 'try_again_later', '51'),
  },
  {
    token: 'pm_card_chargeDeclinedExpiredCard',
    aliases: ['pm_card_visa_chargeDeclinedExpiredCard'],
    label: 'Visa ending 0069',
    brand: 'visa',
    number: '4000000000000069',
    funding: 'credit',
    behaviour: 'Charges are declined: the card has expired.',
    decline: issuer('expired_card', 'expired_card', 'Your card has expired.', 'confirm_card_data', '54'),
  },
  {
    token: 'pm_card_chargeDeclinedIncorrectCvc',
    aliases: ['pm_card_visa_chargeDeclinedIncorrectCvc'],
    label: 'Visa ending 0127',
    brand: 'visa',
    number: '4000000000000127',
    funding: 'credit',
    behaviour: 'Charges are declined: the security code is incorrect.',
    decline: issuer('incorrect_cvc', 'incorrect_cvc', "Your card's security code is incorrect.", 'confirm_card_data', 'N7'),
  },
  {
    token: 'pm_card_chargeDeclinedProcessingError',
    aliases: ['pm_card_visa_chargeDeclinedProcessingError'],
    label: 'Visa ending 0119',
    brand: 'visa',
    number: '4000000000000119',
    funding: 'credit',
    behaviour: 'Charges fail with a processing error (worth trying again later).',
    decline: issuer(
      'processing_error',
      'processing_error',
      'An error occurred while processing your card. Try again in a little while.',
      'try_again_later',
      '96',
    ),
  },
  {
    token: 'pm_card_visa_chargeDeclinedVelocityLimitExceeded',
    label: 'Visa ending 6975',
    brand: 'visa',
    number: '4000000000006975',
    funding: 'credit',
    behaviour: 'Charges are declined: the card exceeded its velocity limit.',
    decline: issuer('card_declined', 'card_velocity_exceeded', DECLINED, 'try_again_later', '61'),
  },
  {
    token: 'pm_card_visa_chargeDeclinedLostCard',
    aliases: ['pm_card_chargeDeclinedLostCard'],
    label: 'Visa ending 9987',
    brand: 'visa',
    number: '4000000000009987',
    funding: 'credit',
    behaviour: 'Charges are declined: card reported lost (hard decline).',
    decline: issuer('card_declined', 'lost_card', DECLINED, 'do_not_try_again', '41'),
  },
  {
    token: 'pm_card_visa_chargeDeclinedStolenCard',
    aliases: ['pm_card_chargeDeclinedStolenCard'],
    label: 'Visa ending 9979',
    brand: 'visa',
    number: '4000000000009979',
    funding: 'credit',
    behaviour: 'Charges are declined: card reported stolen (hard decline).',
    decline: issuer('card_declined', 'stolen_card', DECLINED, 'do_not_try_again', '43'),
  },
  {
    // Stripe's "always blocked" card: Radar stops it before the network, so no bank advice or code.
    token: 'pm_card_radarBlock',
    aliases: ['pm_card_chargeDeclinedFraudulent'],
    label: 'Visa ending 0019',
    brand: 'visa',
    number: '4100000000000019',
    funding: 'credit',
    behaviour: 'Charges are blocked by Radar as fraudulent (not sent to the bank).',
    decline: { code: 'card_declined', decline_code: 'fraudulent', message: DECLINED, outcome: 'blocked' },
  },
  {
    token: 'pm_card_authenticationRequired',
    label: 'Visa ending 3184 (3D Secure)',
    brand: 'visa',
    number: '4000002760003184',
    funding: 'credit',
    behaviour: 'Every charge needs the customer to authenticate (3D Secure): the payment waits in requires_action.',
    decline: {
      code: 'authentication_required',
      decline_code: 'authentication_required',
      message: 'Your card was declined. This transaction requires authentication.',
      outcome: 'issuer_declined',
      requiresAction: true,
    },
  },
];

/**
 * What Stripe's charge `outcome.seller_message` says of a decline: the bank's code when it gave a
 * specific one, Radar's verdict for a block (docs.stripe.com/declines/how-declines-work).
 */
export function sellerMessage(decline: Decline): string {
  if (decline.outcome === 'blocked') return 'Stripe blocked this payment as too risky.';
  if (decline.decline_code === 'generic_decline') return 'The bank did not return any further details with this decline.';
  return `The bank returned the decline code \`${decline.decline_code}\`.`;
}

export function testCard(token: string): TestCard | undefined {
  return TEST_CARDS.find((c) => c.token === token || c.aliases?.includes(token));
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
