import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CARDS, type TestCard } from '../src/cards.ts';
import { startStripeSandbox, type StripeSandbox } from '../src/index.ts';
import { catchError, stripeFor } from './helpers.ts';

// The decline test cards as the product's retry rules read them: every failure class (hard, retry
// later, needs the customer, processing error) must come back from a real SDK call with the fields
// Stripe sends (docs.stripe.com/api/errors: code, decline_code, advice_code, network_advice_code,
// network_decline_code, charge, payment_method), on the card error, on the payment intent's
// last_payment_error and on the charge's outcome alike.

/** Luhn's check (ISO/IEC 7812-1), which every real card number passes. */
function passesLuhn(number: string): boolean {
  let sum = 0;
  [...number].reverse().forEach((ch, i) => {
    let digit = Number(ch);
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  });
  return sum % 10 === 0;
}

const charged = TEST_CARDS.filter((c): c is TestCard & { decline: NonNullable<TestCard['decline']> } => !!c.decline && !c.decline.requiresAction);

describe('the test cards', () => {
  it('each have one token, used by no other card or alias', () => {
    const names = TEST_CARDS.flatMap((c) => [c.token, ...(c.aliases ?? [])]);

    expect(new Set(names).size).toBe(names.length);
  });

  // docs.stripe.com/testing#invalid-data: Stripe's one number that fails the Luhn check on purpose.
  it('have numbers that pass the Luhn check and start as their brand does, but for the documented invalid number', () => {
    for (const card of TEST_CARDS) {
      expect(passesLuhn(card.number), card.token).toBe(card.token !== 'pm_card_chargeDeclinedIncorrectNumber');
      expect(card.number[0], card.token).toBe({ visa: '4', mastercard: '5', amex: '3' }[card.brand]);
    }
  });

  it("give the sandbox's own cards numbers of their own, none of Stripe's documented ones", () => {
    const stripes = new Set(TEST_CARDS.filter((c) => !c.sandboxOnly).map((c) => c.number));
    const own = TEST_CARDS.filter((c) => c.sandboxOnly && c.token !== 'pm_card_chargeDeclinedIncorrectNumber');

    for (const card of own) expect(stripes.has(card.number), card.token).toBe(false);
    expect(new Set(own.map((c) => c.number)).size).toBe(own.length);
  });

  it('only carry a Mastercard merchant advice code on a Mastercard', () => {
    for (const card of charged.filter((c) => c.decline.network_advice_code)) expect(card.brand, card.token).toBe('mastercard');
  });
});

describe('paying an invoice with a declining test card', () => {
  let sandbox: StripeSandbox;
  let stripe: Stripe;

  beforeAll(async () => {
    sandbox = await startStripeSandbox();
    stripe = stripeFor(sandbox, { maxNetworkRetries: 0 });
  });
  afterAll(() => sandbox.close());

  /** An open invoice of a fresh customer who saved `token`, paid with it: the card error, the intent and the charge. */
  async function declineOf(token: string) {
    const customer = await stripe.customers.create({});
    const pm = await stripe.paymentMethods.attach(token, { customer: customer.id });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 1500, currency: 'usd' });
    const invoice = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });

    const err = await catchError(stripe.invoices.pay(invoice.id, { payment_method: pm.id }));

    const read = await stripe.invoices.retrieve(invoice.id, { expand: ['payments.data.payment.payment_intent'] });
    const intent = read.payments!.data[0]!.payment.payment_intent as Stripe.PaymentIntent;
    const charge = await stripe.charges.retrieve(intent.latest_charge as string);
    return { pm, err: err as Stripe.errors.StripeCardError, intent, charge };
  }

  // Every declining card, however it fails: what the product's adapter reads is there.
  it.each(charged.map((c) => [c.token, c] as const))('%s: the card error, last_payment_error and charge outcome agree', async (token, card) => {
    const { pm, err, intent, charge } = await declineOf(token);
    const d = card.decline;
    const issuerDeclined = d.outcome === 'issuer_declined';

    expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect(err).toMatchObject({ statusCode: 402, code: d.code, decline_code: d.decline_code, charge: charge.id });
    expect(err.payment_method).toMatchObject({ id: pm.id, object: 'payment_method', card: { brand: card.brand, last4: card.number.slice(-4) } });
    expect(err.payment_intent).toMatchObject({ id: intent.id, latest_charge: charge.id });
    expect(intent.last_payment_error).toMatchObject({
      type: 'card_error',
      code: d.code,
      decline_code: d.decline_code,
      charge: charge.id,
      payment_method: { id: pm.id, card: { brand: card.brand } },
    });
    // Stripe leaves out of an error what the decline has no value for.
    for (const field of ['advice_code', 'network_advice_code', 'network_decline_code'] as const) {
      expect((err.raw as Record<string, unknown>)[field], field).toBe(d[field]);
      expect(intent.last_payment_error?.[field], field).toBe(d[field]);
      expect(field in (err.raw as object), field).toBe(d[field] !== undefined);
    }
    expect(charge).toMatchObject({ status: 'failed', failure_code: d.code, payment_method_details: { card: { brand: card.brand } } });
    expect(charge.outcome).toMatchObject({
      type: d.outcome,
      reason: d.outcome === 'blocked' ? 'highest_risk_level' : d.decline_code,
      network_status: issuerDeclined ? 'declined_by_network' : 'not_sent_to_network',
      advice_code: d.advice_code ?? null,
      network_advice_code: d.network_advice_code ?? null,
      network_decline_code: d.network_decline_code ?? null,
      risk_level: d.outcome === 'blocked' ? 'highest' : 'normal',
    });
    expect(charge.outcome?.seller_message).toEqual(expect.any(String));
    // Only the bank advises: nothing that never reached it carries advice or a network code.
    if (!issuerDeclined) expect([d.advice_code, d.network_advice_code, d.network_decline_code]).toEqual([undefined, undefined, undefined]);
  });

  // One card per failure class the retry rules tell apart, with what Stripe would say of it.
  it.each([
    // Hard: never this card again, whatever the decline code says.
    ['pm_card_visa_chargeDeclinedDoNotTryAgain', 'visa', 'do_not_try_again', 'do_not_try_again', undefined, '46'],
    ['pm_card_mastercard_chargeDeclinedDoNotTryAgain', 'mastercard', 'do_not_honor', 'do_not_try_again', '03', '05'],
    ['pm_card_mastercard_chargeDeclinedPaymentCancelled', 'mastercard', 'revocation_of_authorization', 'do_not_try_again', '21', '82'],
    ['pm_card_visa_chargeDeclinedRevocationOfAuthorization', 'visa', 'revocation_of_authorization', 'do_not_try_again', undefined, 'R1'],
    // Retry later, and when.
    ['pm_card_visa_chargeDeclinedTryAgainLater', 'visa', 'try_again_later', 'try_again_later', undefined, '05'],
    ['pm_card_visa_chargeDeclinedDoNotHonor', 'visa', 'do_not_honor', 'try_again_later', undefined, '05'],
    ['pm_card_visa_chargeDeclinedIssuerNotAvailable', 'visa', 'issuer_not_available', 'try_again_later', undefined, '91'],
    ['pm_card_visa_chargeDeclinedReenterTransaction', 'visa', 'reenter_transaction', 'try_again_later', undefined, '19'],
    ['pm_card_mastercard_chargeDeclinedTryAgainLater', 'mastercard', 'insufficient_funds', 'try_again_later', '02', '51'],
    ['pm_card_mastercard_chargeDeclinedRetryAfter1Hour', 'mastercard', 'insufficient_funds', 'try_again_later', '24', '51'],
    ['pm_card_mastercard_chargeDeclinedRetryAfter24Hours', 'mastercard', 'insufficient_funds', 'try_again_later', '25', '51'],
    ['pm_card_mastercard_chargeDeclinedRetryAfter10Days', 'mastercard', 'insufficient_funds', 'try_again_later', '30', '51'],
    // Needs the customer: new card details.
    ['pm_card_mastercard_chargeDeclinedNewAccountInformation', 'mastercard', 'new_account_information_available', 'confirm_card_data', '01', '79'],
  ])('%s (%s) declines with %s, advice %s, network advice %s, network code %s', async (token, brand, declineCode, advice, networkAdvice, network) => {
    const { err, intent, charge } = await declineOf(token);

    expect(err).toMatchObject({ code: 'card_declined', decline_code: declineCode, advice_code: advice, network_advice_code: networkAdvice, network_decline_code: network });
    expect(err.payment_method?.card?.brand).toBe(brand);
    expect(intent.last_payment_error).toMatchObject({ decline_code: declineCode, advice_code: advice, network_decline_code: network });
    expect(intent.last_payment_error?.network_advice_code).toBe(networkAdvice);
    expect(charge.outcome).toMatchObject({ type: 'issuer_declined', network_status: 'declined_by_network', reason: declineCode, network_advice_code: networkAdvice ?? null });
  });

  it("blocks pm_card_riskLevelHighest with Radar's default rule: not sent to the bank, no advice", async () => {
    const { err, charge } = await declineOf('pm_card_riskLevelHighest');

    expect(err).toMatchObject({ code: 'card_declined', decline_code: 'generic_decline', advice_code: undefined, network_decline_code: undefined });
    expect(charge.outcome).toMatchObject({ type: 'blocked', reason: 'highest_risk_level', network_status: 'not_sent_to_network', risk_level: 'highest' });
  });

  it('refuses the documented incorrect number as invalid card data, never sent to the network', async () => {
    const { err, intent, charge } = await declineOf('pm_card_chargeDeclinedIncorrectNumber');

    expect(err).toMatchObject({ code: 'incorrect_number', decline_code: 'incorrect_number', message: 'Your card number is incorrect.' });
    expect(err.payment_method?.card?.last4).toBe('4241');
    expect(intent.last_payment_error).toMatchObject({ code: 'incorrect_number' });
    expect(charge.outcome).toMatchObject({ type: 'invalid', network_status: 'not_sent_to_network', advice_code: null, network_decline_code: null });
  });
});
