import { describe, expect, it } from 'vitest';
import { howPaid } from '#shared/dunning/paid-by.ts';

const onStripe = { paidOffStripe: false };

describe('howPaid', () => {
  it('says out_of_band whenever no payment went through Stripe, whatever the event', () => {
    expect(howPaid({ paidOffStripe: true }, { id: 'req_1', idempotency_key: 'dunning:in_1:Retry1:run1' })).toBe('out_of_band');
    expect(howPaid({ paidOffStripe: true })).toBe('out_of_band');
  });

  it("recognises the product's own charges by their idempotency keys", () => {
    expect(howPaid(onStripe, { id: 'req_1', idempotency_key: 'dunning:in_1:Retry2:run3' })).toBe('workflow_retry');
    expect(howPaid(onStripe, { id: 'req_1', idempotency_key: 'dunning:in_1:card-updated:evt_9' })).toBe('card_updated');
  });

  it("takes an event with no request for Stripe's own automatic retry", () => {
    expect(howPaid(onStripe, { id: null, idempotency_key: null })).toBe('stripe_retry');
    expect(howPaid(onStripe, null)).toBe('stripe_retry');
  });

  it('takes a request that is not ours for the customer paying through Stripe', () => {
    expect(howPaid(onStripe, { id: 'req_abc', idempotency_key: null })).toBe('customer_payment');
    expect(howPaid(onStripe, { id: 'req_abc', idempotency_key: 'their-own-key' })).toBe('customer_payment');
  });

  it('records invoice_paid, to be refined, when no event says how', () => {
    expect(howPaid(onStripe)).toBe('invoice_paid');
  });
});
