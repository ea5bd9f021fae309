import { describe, expect, it } from 'vitest';
import { blockingCode, describeFailure, reissueClears } from '#shared/dunning/declines.ts';

describe('blockingCode', () => {
  it.each([
    [{ code: 'card_declined', declineCode: 'stolen_card' }, 'stolen_card'],
    [{ code: 'card_declined', declineCode: 'fraudulent', adviceCode: 'do_not_try_again' }, 'fraudulent'],
    [{ code: 'incorrect_number' }, 'incorrect_number'],
    [{ code: 'authentication_required', declineCode: 'authentication_required' }, 'authentication_required'],
    // 3-D Secure comes back with the error code alone as often as with a decline code.
    [{ code: 'authentication_required', declineCode: 'generic_decline' }, 'authentication_required'],
    // What invoices.pay answers when the bank wants 3-D Secure: no decline code (docs.stripe.com/error-codes).
    [{ code: 'invoice_payment_intent_requires_action' }, 'authentication_required'],
  ])('blocks a card that hard-declined or needs authentication: %o', (failure, code) => {
    expect(blockingCode(failure)).toBe(code);
  });

  it('blocks a soft decline the issuer advises not to try again, under its own decline code', () => {
    expect(blockingCode({ code: 'card_declined', declineCode: 'generic_decline', adviceCode: 'do_not_try_again' })).toBe('generic_decline');
    expect(blockingCode({ code: 'expired_card', adviceCode: 'do_not_try_again' })).toBe('expired_card');
  });

  it('blocks a card whose details the issuer asks to confirm, under its own code, until they change', () => {
    expect(blockingCode({ code: 'expired_card', declineCode: 'expired_card', adviceCode: 'confirm_card_data' })).toBe('expired_card');
    expect(blockingCode({ code: 'incorrect_cvc', adviceCode: 'confirm_card_data' })).toBe('incorrect_cvc');
    expect(reissueClears(blockingCode({ code: 'expired_card', adviceCode: 'confirm_card_data' }))).toBe(true);
  });

  it.each([
    [{ code: 'card_declined', declineCode: 'insufficient_funds', adviceCode: 'try_again_later' }],
    [{ code: 'card_declined', declineCode: 'generic_decline' }],
    [{ code: 'processing_error', declineCode: 'processing_error', adviceCode: 'try_again_later' }],
    [{ code: 'no_payment_method' }],
    [{}],
  ])('lets a card be tried again otherwise: %o', (failure) => {
    expect(blockingCode(failure)).toBeUndefined();
  });

  it('lets a reissue lift a block for an expired card, as for a lost one, but not for fraud', () => {
    expect(reissueClears(blockingCode({ code: 'expired_card', adviceCode: 'do_not_try_again' }))).toBe(true);
    expect(reissueClears(blockingCode({ code: 'card_declined', declineCode: 'lost_card' }))).toBe(true);
    expect(reissueClears(blockingCode({ code: 'card_declined', declineCode: 'fraudulent' }))).toBe(false);
  });
});

describe('describeFailure', () => {
  it('says the code, then the reason, the advice and the network code it has', () => {
    expect(describeFailure({ code: 'card_declined', declineCode: 'stolen_card', adviceCode: 'do_not_try_again', networkDeclineCode: '43' })).toBe(
      'card_declined: stolen_card, advice do_not_try_again, network 43',
    );
    expect(describeFailure({ code: 'authentication_required', declineCode: 'authentication_required' })).toBe('authentication_required');
    expect(describeFailure({ code: 'no_payment_method' })).toBe('no_payment_method');
  });
});
