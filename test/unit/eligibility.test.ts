import { describe, expect, it } from 'vitest';
import { dunningEligibility, parseInvoice, subscriptionOf } from '#shared/dunning/invoice-event.ts';
import { stripeFixture } from '../fixtures/stripe.ts';

/** Stripe's canonical invoice, made into a failed subscription renewal. */
function failedRenewal(change: (invoice: Record<string, any>) => void = () => {}) {
  const invoice = stripeFixture('invoice');
  Object.assign(invoice, {
    id: 'in_1Renewal',
    status: 'open',
    collection_method: 'charge_automatically',
    amount_due: 1500,
    amount_remaining: 1500,
    customer: 'cus_1',
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription: 'sub_1' } },
  });
  change(invoice);
  return parseInvoice(invoice, 'evt_1');
}

describe('dunningEligibility', () => {
  it('opens a case for a failed automatic charge of a subscription', () => {
    expect(dunningEligibility(failedRenewal())).toEqual({ eligible: true, subscriptionId: 'sub_1' });
  });

  it('reads the subscription from the current API shape, falling back to the legacy field', () => {
    const legacy = failedRenewal((i) => {
      i.parent = null;
      i.subscription = 'sub_legacy';
    });

    expect(subscriptionOf(failedRenewal())).toBe('sub_1');
    expect(subscriptionOf(legacy)).toBe('sub_legacy');
  });

  it.each([
    ['an invoice with no subscription', (i: Record<string, any>) => (i.parent = null), /no subscription/],
    ['an invoice sent for manual payment', (i: Record<string, any>) => (i.collection_method = 'send_invoice'), /send_invoice/],
    ['a zero-amount invoice', (i: Record<string, any>) => (i.amount_due = 0), /nothing is due/],
    ['an invoice already paid', (i: Record<string, any>) => (i.status = 'paid'), /status is paid/],
  ])('ignores %s', (_, change, reason) => {
    const result = dunningEligibility(failedRenewal(change));

    expect(result.eligible).toBe(false);
    expect(!result.eligible && result.reason).toMatch(reason);
  });
});

describe('parseInvoice', () => {
  it('says which field of a malformed invoice is wrong', () => {
    const invoice = stripeFixture('invoice');
    invoice.id = 'in_1';
    invoice.amount_due = 'lots';

    expect(() => parseInvoice(invoice, 'evt_bad')).toThrow(/evt_bad: .*amount_due/);
  });
});
