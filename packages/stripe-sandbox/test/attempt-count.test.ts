// `attempt_count` and `next_payment_attempt` as Stripe keeps them: "Number of payment attempts made
// for this invoice, from the perspective of the payment retry schedule. Any payment attempt counts as
// the first attempt, and subsequently only automatic retries increment the attempt count. In other
// words, manual payment attempts after the first attempt do not affect the retry schedule."
// (https://docs.stripe.com/api/invoices/object#invoice_object-attempt_count)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { advance, catchError, DAY, startHarness, subscribedCustomer, T0, type Harness } from './helpers.ts';

const PERIOD_END = T0 + 31 * DAY;
const ATTEMPT_1 = PERIOD_END + 3600;

const form = (card: string) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ card }).toString(),
  redirect: 'manual' as const,
});

describe("stripe sandbox attempt counting: only Stripe's own attempts count", () => {
  let h: Harness;
  let stripe: Stripe;

  beforeAll(async () => {
    // A custom retry schedule: 1 day after the first failure, then 2 days after the second.
    h = await startHarness({ automaticRetryDays: [1, 2], subscriptionAfterRetries: 'past_due' });
    stripe = h.stripe;
  });
  afterAll(() => h.close());

  async function failedRenewal(): Promise<{ clock: Stripe.TestHelpers.TestClock; customer: Stripe.Customer; invoice: Stripe.Invoice }> {
    const { clock, customer } = await subscribedCustomer(stripe, 'pm_card_visa');
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
    await advance(stripe, clock.id, ATTEMPT_1);
    const invoices = await stripe.invoices.list({ customer: customer.id, limit: 1 });
    return { clock, customer, invoice: invoices.data[0]! };
  }

  async function failuresOf(invoiceId: string): Promise<Stripe.Invoice[]> {
    const events = await stripe.events.list({ type: 'invoice.payment_failed', limit: 100 });
    return events.data
      .filter((e) => (e.data.object as Stripe.Invoice).id === invoiceId)
      .reverse()
      .map((e) => e.data.object as Stripe.Invoice);
  }

  it('a failed invoices.pay and a failed hosted-page payment neither count nor move the next automatic attempt', async () => {
    const { invoice } = await failedRenewal();
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 1, next_payment_attempt: ATTEMPT_1 + DAY });

    // The merchant's retry through the API, with another declining card.
    const declined = await catchError(stripe.invoices.pay(invoice.id, { payment_method: 'pm_card_chargeDeclinedInsufficientFunds' }));
    expect(declined.code).toBe('card_declined');
    // The customer on the hosted invoice page.
    const page = await fetch(`${invoice.hosted_invoice_url!}/pay`, form('pm_card_chargeCustomerFail'));
    expect(await page.text()).toContain('Your card was declined.');

    const after = await stripe.invoices.retrieve(invoice.id);
    expect(after).toMatchObject({ attempted: true, attempt_count: 1, next_payment_attempt: ATTEMPT_1 + DAY });
    // Each attempt still sends invoice.payment_failed, with the count unchanged.
    expect((await failuresOf(invoice.id)).map((i) => i.attempt_count)).toEqual([1, 1, 1]);
  });

  it("Stripe's own retry counts and reschedules; events of manual attempts name their request, Stripe's own do not", async () => {
    const { clock, invoice } = await failedRenewal();
    await catchError(stripe.invoices.pay(invoice.id, {}, { idempotencyKey: 'dunning:manual-1' }));
    await advance(stripe, clock.id, ATTEMPT_1 + DAY + 60);
    const retried = await stripe.invoices.retrieve(invoice.id);
    expect(retried).toMatchObject({ attempt_count: 2, next_payment_attempt: ATTEMPT_1 + DAY + 2 * DAY });

    const events = (await stripe.events.list({ type: 'invoice.payment_failed', limit: 100 })).data
      .filter((e) => (e.data.object as Stripe.Invoice).id === invoice.id)
      .reverse();
    expect(events.map((e) => [(e.data.object as Stripe.Invoice).attempt_count, e.request?.id === null, e.request?.idempotency_key ?? null])).toEqual([
      [1, true, null],
      [1, false, 'dunning:manual-1'],
      [2, true, null],
    ]);
  });

  it('a successful manual payment after the first attempt leaves attempt_count as it was', async () => {
    const { invoice } = await failedRenewal();
    const paid = await stripe.invoices.pay(invoice.id, { payment_method: 'pm_card_visa' });
    expect(paid).toMatchObject({ status: 'paid', attempt_count: 1, next_payment_attempt: null });
  });

  it('a manual payment that is the first attempt counts as the first attempt and starts the schedule', async () => {
    const { clock, customer } = await subscribedCustomer(stripe, 'pm_card_visa');
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
    // In the renewal's draft hour, before Stripe has attempted it.
    await advance(stripe, clock.id, PERIOD_END + 60);
    const draft = (await stripe.invoices.list({ customer: customer.id, limit: 1 })).data[0]!;
    expect(draft).toMatchObject({ status: 'draft', attempt_count: 0 });
    await catchError(stripe.invoices.pay(draft.id));
    const after = await stripe.invoices.retrieve(draft.id);
    expect(after).toMatchObject({ status: 'open', attempt_count: 1, next_payment_attempt: PERIOD_END + 60 + DAY });
  });
});
