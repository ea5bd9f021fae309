// Which class and timing each thing Stripe returns gets: what the retry rules then act on.
import { describe, expect, it } from 'vitest';
import { classifyFailure } from '#shared/retries/classify.ts';

type Failure = Parameters<typeof classifyFailure>[0];

describe('classifyFailure', () => {
  it.each<[string, Failure, string, string | undefined]>([
    ['short funds aim at a payday', { code: 'card_declined', declineCode: 'insufficient_funds' }, 'retry_later', 'payday'],
    ['a card over its limit aims at a payday', { code: 'card_declined', declineCode: 'card_velocity_exceeded' }, 'retry_later', 'payday'],
    ['a plain generic decline keeps the policy day', { code: 'card_declined', declineCode: 'generic_decline' }, 'retry_later', 'standard'],
    ['the issuer asking for time backs off', { code: 'card_declined', declineCode: 'generic_decline', adviceCode: 'try_again_later' }, 'retry_later', 'backoff'],
    ['Mastercard advice 02 backs off', { code: 'card_declined', declineCode: 'generic_decline', networkAdviceCode: '02', cardBrand: 'mastercard' }, 'retry_later', 'backoff'],
    ['do_not_try_again on a generic decline stops the card', { code: 'card_declined', declineCode: 'generic_decline', adviceCode: 'do_not_try_again' }, 'hard', undefined],
    ['do_not_try_again beats short funds', { code: 'card_declined', declineCode: 'insufficient_funds', adviceCode: 'do_not_try_again' }, 'hard', undefined],
    ['Mastercard advice 03 stops the card', { code: 'card_declined', declineCode: 'generic_decline', networkAdviceCode: '03' }, 'hard', undefined],
    ['Mastercard advice 21 (cancelled by the cardholder) stops the card', { code: 'card_declined', declineCode: 'insufficient_funds', networkAdviceCode: '21' }, 'hard', undefined],
    ['a stolen card is never retried', { code: 'card_declined', declineCode: 'stolen_card' }, 'hard', undefined],
    ['Radar blocking it stops the card', { code: 'card_declined', declineCode: 'generic_decline', outcomeType: 'blocked' }, 'hard', undefined],
    ['an invalid payment stops the card', { code: 'card_declined', declineCode: 'generic_decline', outcomeType: 'invalid' }, 'hard', undefined],
    ['confirm_card_data waits for the customer', { code: 'card_declined', declineCode: 'generic_decline', adviceCode: 'confirm_card_data' }, 'needs_customer', undefined],
    ['authentication_required waits for the customer', { code: 'authentication_required', declineCode: 'authentication_required' }, 'needs_customer', undefined],
    ['3-D Secure as the error code alone waits for the customer', { code: 'authentication_required', declineCode: 'generic_decline' }, 'needs_customer', undefined],
    ['requires_action from invoices.pay waits for the customer', { code: 'invoice_payment_intent_requires_action' }, 'needs_customer', undefined],
    ['an expired card waits for the customer', { code: 'expired_card' }, 'needs_customer', undefined],
    ['Mastercard advice 01 (new account information) waits for the customer', { code: 'card_declined', declineCode: 'generic_decline', networkAdviceCode: '01' }, 'needs_customer', undefined],
    ['processing_error backs off', { code: 'processing_error', declineCode: 'processing_error' }, 'processing_error', 'backoff'],
    ['processing_error without a decline code backs off', { code: 'processing_error' }, 'processing_error', 'backoff'],
    ['issuer_not_available backs off', { code: 'card_declined', declineCode: 'issuer_not_available' }, 'processing_error', 'backoff'],
    ['no card on file', { code: 'no_payment_method' }, 'no_payment_method', undefined],
    ['a removed card', { code: 'payment_method_detached' }, 'no_payment_method', undefined],
  ])('%s', (_behaviour, failure, expectedClass, timing) => {
    const result = classifyFailure(failure);

    expect(result.class).toBe(expectedClass);
    expect(result.timing).toBe(timing);
    expect(result.stopsCard).toBe(timing === undefined);
  });

  it.each([
    ['24', 1],
    ['25', 24],
    ['26', 48],
    ['27', 96],
    ['30', 240],
  ])('Mastercard advice %s waits the %d hours it names, even on short funds', (advice, hours) => {
    const result = classifyFailure({ code: 'card_declined', declineCode: 'insufficient_funds', networkAdviceCode: advice, cardBrand: 'mastercard' });

    expect(result).toMatchObject({ class: 'retry_later', timing: 'after', afterHours: hours, stopsCard: false });
  });

  it.each(['14', '41', '43'])("Visa %s (issuer will never approve) stops a Visa card, and names Visa's code", (code) => {
    const result = classifyFailure({ code: 'card_declined', declineCode: 'generic_decline', networkDeclineCode: code, cardBrand: 'visa' });

    expect(result.class).toBe('hard');
    expect(result.reason).toContain(`Visa ${code}`);
  });

  it.each(['14', '41', '43'])("the network code %s on a Mastercard is not read as Visa's category 1", (code) => {
    const result = classifyFailure({ code: 'card_declined', declineCode: 'generic_decline', networkDeclineCode: code, cardBrand: 'mastercard' });

    expect(result).toMatchObject({ class: 'retry_later', timing: 'standard' });
  });

  it("a Visa data-quality code waits for the customer, a Mastercard's same code does not", () => {
    const failure = { code: 'card_declined', declineCode: 'generic_decline', networkDeclineCode: '54' };

    expect(classifyFailure({ ...failure, cardBrand: 'visa' }).class).toBe('needs_customer');
    expect(classifyFailure({ ...failure, cardBrand: 'mastercard' }).class).toBe('retry_later');
  });

  it('names the decline code, else the error code, and says why in words that name what Stripe sent', () => {
    expect(classifyFailure({ code: 'card_declined', declineCode: 'generic_decline', adviceCode: 'do_not_try_again' })).toMatchObject({
      code: 'generic_decline',
      reason: 'do_not_try_again from the issuer (generic_decline)',
    });
    expect(classifyFailure({ code: 'processing_error' }).code).toBe('processing_error');
    expect(classifyFailure({}).code).toBe('card_declined');
    expect(classifyFailure({ code: 'card_declined', networkAdviceCode: '26' }).reason).toContain('retry after 2 days');
  });
});
