// Stripe's test payment-method tokens and what charging each one does, with the messages and
// decline codes Stripe returns for them, plus the sandbox's own cards for the issuer and network
// advice Stripe's testing page has no card for.

/**
 * How a charge of the card fails. Stripe's decline codes (docs.stripe.com/declines/codes) and test
 * cards (docs.stripe.com/testing#declined-payments, #fraud-prevention, #invalid-data); the issuer's
 * advice (docs.stripe.com/declines/card#retrying-issuer-declines) and the network's code
 * (docs.stripe.com/declines/network-codes, Visa's response codes) are those each reason calls for:
 * Stripe's testing page does not list them per card.
 */
export interface Decline {
  code: string;
  decline_code: string;
  message: string;
  /** The issuer's advice: absent when the payment never reached the issuer (a Radar block, an invalid number). */
  advice_code?: 'try_again_later' | 'do_not_try_again' | 'confirm_card_data';
  /**
   * The card network's own reason code, when the network declined it. Visa's response codes, in
   * Visa's retry categories (support.forte.net "Visa Decline Response Code Rules and Integrity Fees";
   * checkout.com "Visa response code categories"): never approved (04, 41, 43, 46, 57, R0, R1, R3),
   * not now (05, 19, 51, 61, 91, 96), not with these details (14, 54, N7). Mastercard's: 05 do not
   * honor, 51 insufficient funds, 79 life cycle, 82 policy (Cybersource's note on Mastercard's
   * April 2023 decline-reason mandate).
   */
  network_decline_code?: string;
  /**
   * The network's advice, two digits, which Stripe passes on as `network_advice_code`: Mastercard's
   * merchant advice codes (MAC) — 01 new account information available, 02 try again later, 03 do
   * not try again, 21 payment cancellation (stop recurring), 24–30 retry after 1 hour, 24 hours, 2,
   * 4, 6, 8 or 10 days (Braintree's "Merchant Advice Codes" reference; Heartland's RecurringDataCode).
   */
  network_advice_code?: string;
  /**
   * The charge's `outcome.type`: `issuer_declined` (the bank said no), `blocked` (Stripe's Radar
   * stopped it before the network; docs.stripe.com/declines/how-declines-work#blocked-payments) or
   * `invalid` (Stripe refused the card data itself: not sent to the network;
   * docs.stripe.com/api/charges/object#charge_object-outcome-type).
   */
  outcome: 'issuer_declined' | 'blocked' | 'invalid';
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
  /**
   * Not on Stripe's testing page: the sandbox's own card, for a decline code, issuer advice or
   * network advice Stripe has no test card for. Its number (4000 0099 …, 5200 0099 …) is the sandbox's.
   */
  sandboxOnly?: true;
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

/** A Mastercard issuer's `card_declined`, with the merchant advice code the network passed on. */
function mastercard(declineCode: string, advice: NonNullable<Decline['advice_code']>, network: string, mac: string): Decline {
  return { ...issuer('card_declined', declineCode, DECLINED, advice, network), network_advice_code: mac };
}

/** One of the sandbox's own Visa cards: a `card_declined` for a decline code Stripe has no test card for. */
function sandboxVisa(serial: string, declineCode: string, advice: NonNullable<Decline['advice_code']>, network: string, behaviour: string): TestCard {
  const token = `pm_card_visa_chargeDeclined${camel(declineCode)}`;
  const number = `4000009900000${serial}`;
  return {
    token,
    label: `Visa ending ${number.slice(-4)}`,
    brand: 'visa',
    number,
    funding: 'credit',
    behaviour,
    decline: issuer('card_declined', declineCode, DECLINED, advice, network),
    sandboxOnly: true,
  };
}

/** One of the sandbox's own Mastercards, named for its merchant advice code. */
function sandboxMastercard(name: string, serial: string, decline: Decline, behaviour: string): TestCard {
  const number = `5200009900000${serial}`;
  return {
    token: `pm_card_mastercard_chargeDeclined${name}`,
    label: `Mastercard ending ${number.slice(-4)}`,
    brand: 'mastercard',
    number,
    funding: 'credit',
    behaviour,
    decline,
    sandboxOnly: true,
  };
}

function camel(snake: string): string {
  return snake.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

/** Mastercard's "retry after" merchant advice codes (24–30), each with its wait and the sandbox card's serial. */
const RETRY_AFTER: ReadonlyArray<[mac: string, name: string, wait: string, serial: string]> = [
  ['24', 'RetryAfter1Hour', '1 hour', '058'],
  ['25', 'RetryAfter24Hours', '24 hours', '066'],
  ['26', 'RetryAfter2Days', '2 days', '074'],
  ['27', 'RetryAfter4Days', '4 days', '082'],
  ['28', 'RetryAfter6Days', '6 days', '090'],
  ['29', 'RetryAfter8Days', '8 days', '108'],
  ['30', 'RetryAfter10Days', '10 days', '116'],
];

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
  {
    // docs.stripe.com/testing#fraud-prevention: "highest" risk, blocked by Radar's default rule
    // ("Block if :risk_level: = 'highest'"). Stripe's test mode answers this block with
    // `generic_decline`, not `fraudulent` (a public record of test-card responses); the docs do not say.
    token: 'pm_card_riskLevelHighest',
    label: 'Visa ending 4954',
    brand: 'visa',
    number: '4000000000004954',
    funding: 'credit',
    behaviour: "Charges are blocked by Radar's default rule for the highest risk level (not sent to the bank).",
    decline: { code: 'card_declined', decline_code: 'generic_decline', message: DECLINED, outcome: 'blocked' },
  },
  {
    // docs.stripe.com/testing#invalid-data: 4242424242424241 fails the Luhn check and is declined
    // with `incorrect_number`. Stripe refuses it before any PaymentMethod exists, so it has no
    // pm_card_ token; the sandbox saves it anyway so a charge can fail as Stripe's validation does:
    // `invalid`, never sent to the network, no advice.
    token: 'pm_card_chargeDeclinedIncorrectNumber',
    label: 'Visa ending 4241 (invalid number)',
    brand: 'visa',
    number: '4242424242424241',
    funding: 'credit',
    behaviour: 'Charges fail: the card number is incorrect (Stripe refuses it; never sent to the bank).',
    decline: { code: 'incorrect_number', decline_code: 'incorrect_number', message: 'Your card number is incorrect.', outcome: 'invalid' },
    sandboxOnly: true,
  },
  // The sandbox's own Visa cards: one per decline code worth telling apart (docs.stripe.com/declines/codes),
  // with the issuer's advice its reason calls for and Visa's response code.
  sandboxVisa('012', 'do_not_honor', 'try_again_later', '05', 'Charges are declined: do not honor (the bank gives no reason; may approve later).'),
  sandboxVisa('020', 'try_again_later', 'try_again_later', '05', 'Charges are declined: the bank says try again later.'),
  sandboxVisa('038', 'do_not_try_again', 'do_not_try_again', '46', 'Charges are declined: the bank says never try this card again (closed account).'),
  sandboxVisa('046', 'issuer_not_available', 'try_again_later', '91', 'Charges are declined: the bank could not be reached (try again later).'),
  sandboxVisa('053', 'reenter_transaction', 'try_again_later', '19', 'Charges are declined: the bank asks for the payment to be tried again.'),
  sandboxVisa('061', 'pickup_card', 'do_not_try_again', '04', 'Charges are declined: the bank wants the card picked up (hard decline).'),
  sandboxVisa('079', 'invalid_account', 'do_not_try_again', '14', 'Charges are declined: the card or its account is invalid (hard decline).'),
  sandboxVisa('087', 'transaction_not_allowed', 'do_not_try_again', '57', 'Charges are declined: the card does not allow this payment (hard decline).'),
  sandboxVisa('095', 'restricted_card', 'do_not_try_again', '62', 'Charges are declined: the card is restricted (hard decline).'),
  sandboxVisa('103', 'stop_payment_order', 'do_not_try_again', 'R0', 'Charges are declined: the cardholder stopped this payment (hard decline).'),
  sandboxVisa('111', 'revocation_of_authorization', 'do_not_try_again', 'R1', 'Charges are declined: the cardholder revoked this recurring payment (hard decline).'),
  sandboxVisa(
    '129',
    'revocation_of_all_authorizations',
    'do_not_try_again',
    'R3',
    "Charges are declined: the cardholder revoked all of the merchant's recurring payments (hard decline).",
  ),
  // The sandbox's own Mastercards: one per merchant advice code Stripe passes on as `network_advice_code`.
  sandboxMastercard(
    'NewAccountInformation',
    '017',
    mastercard('new_account_information_available', 'confirm_card_data', '79', '01'),
    'Charges are declined: new account information is available (MAC 01; ask for the new card).',
  ),
  sandboxMastercard(
    'TryAgainLater',
    '025',
    mastercard('insufficient_funds', 'try_again_later', '51', '02'),
    'Charges are declined for insufficient funds: try again later (MAC 02).',
  ),
  sandboxMastercard(
    'DoNotTryAgain',
    '033',
    mastercard('do_not_honor', 'do_not_try_again', '05', '03'),
    'Charges are declined: do not try again (MAC 03), though the decline code is only do_not_honor.',
  ),
  sandboxMastercard(
    'PaymentCancelled',
    '041',
    mastercard('revocation_of_authorization', 'do_not_try_again', '82', '21'),
    'Charges are declined: the cardholder cancelled this recurring payment (MAC 21; stop charging).',
  ),
  ...RETRY_AFTER.map(([mac, name, wait, serial]) =>
    sandboxMastercard(
      name,
      serial,
      mastercard('insufficient_funds', 'try_again_later', '51', mac),
      `Charges are declined for insufficient funds: retry after ${wait} (MAC ${mac}).`,
    ),
  ),
];

/**
 * What Stripe's charge `outcome.seller_message` says of a decline: the bank's code when it gave a
 * specific one, Radar's verdict for a block (docs.stripe.com/declines/how-declines-work).
 */
export function sellerMessage(decline: Decline): string {
  if (decline.outcome === 'blocked') return 'Stripe blocked this payment as too risky.';
  if (decline.outcome === 'invalid') return decline.message;
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
