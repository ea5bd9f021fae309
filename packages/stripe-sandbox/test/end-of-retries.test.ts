// What Stripe does when its retries of a renewal are over, by the account's "Manage failed payments"
// settings: "Once Stripe has exhausted all payment retry attempts, the subscription will become
// canceled or unpaid (depending on your subscriptions settings)" (subscription `status`,
// https://docs.stripe.com/api/subscriptions/object#subscription_object-status), or stays past due;
// the invoice is left past due or marked uncollectible. And when Stripe does not retry at all:
// "Stripe doesn't retry payments if no payment methods are available [or] the issuer returned a hard
// decline code" (https://docs.stripe.com/billing/revenue-recovery/smart-retries), while "retries will
// continue to be scheduled, and attempt_count will continue to increment, but retries will only be
// executed if a new payment method is obtained" (https://docs.stripe.com/api/invoices/object#invoice_object-attempt_count).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import type { StripeSandboxOptions } from '../src/index.ts';
import { advance, DAY, startHarness, subscribedCustomer, T0, type Harness } from './helpers.ts';

const PERIOD_END = T0 + 31 * DAY;
const ATTEMPT_1 = PERIOD_END + 3600;
/** The retry schedule used here: one retry, a day after the first failure. */
const LAST_ATTEMPT = ATTEMPT_1 + DAY;

async function renewalFailingWith(stripe: Stripe, card: string): Promise<{ clock: Stripe.TestHelpers.TestClock; customer: Stripe.Customer; subscription: Stripe.Subscription; invoice: Stripe.Invoice }> {
  const { clock, customer, subscription } = await subscribedCustomer(stripe, 'pm_card_visa');
  const failing = await stripe.paymentMethods.attach(card, { customer: customer.id });
  await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
  await advance(stripe, clock.id, ATTEMPT_1);
  const invoice = (await stripe.invoices.list({ customer: customer.id, limit: 1 })).data[0]!;
  return { clock, customer, subscription, invoice };
}

async function chargesOf(stripe: Stripe, invoice: Stripe.Invoice): Promise<number> {
  const events = await stripe.events.list({ type: 'charge.failed', limit: 100 });
  return events.data.filter((e) => (e.data.object as Stripe.Charge).customer === invoice.customer).length;
}

function withAccount(options: StripeSandboxOptions, body: (h: () => Harness) => void): void {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(options);
  });
  afterAll(() => h.close());
  body(() => h);
}

describe('stripe sandbox end of retries', () => {
  describe("Stripe's default: cancel the subscription", () => {
    withAccount({ automaticRetryDays: [1] }, (h) => {
      it('cancels the subscription for payment_failed after the last retry fails, and leaves the invoice open', async () => {
        const { clock, subscription, invoice } = await renewalFailingWith(h().stripe, 'pm_card_chargeCustomerFail');
        expect((await h().stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due');
        await advance(h().stripe, clock.id, LAST_ATTEMPT + 60);
        const sub = await h().stripe.subscriptions.retrieve(subscription.id);
        expect(sub).toMatchObject({ status: 'canceled', ended_at: LAST_ATTEMPT, cancellation_details: { reason: 'payment_failed' } });
        expect(await h().stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'open', attempt_count: 2, next_payment_attempt: null });
        const deleted = (await h().stripe.events.list({ type: 'customer.subscription.deleted', limit: 100 })).data.find(
          (e) => (e.data.object as Stripe.Subscription).id === subscription.id,
        );
        expect(deleted?.created).toBe(LAST_ATTEMPT);
        expect(deleted?.request).toEqual({ id: null, idempotency_key: null });
      });
    });
  });

  describe('retries off: the first failure is the last', () => {
    withAccount({ automaticRetryDays: [], subscriptionAfterRetries: 'cancel' }, (h) => {
      it('cancels right after the renewal fails', async () => {
        const { subscription, invoice } = await renewalFailingWith(h().stripe, 'pm_card_chargeCustomerFail');
        expect(await h().stripe.subscriptions.retrieve(subscription.id)).toMatchObject({ status: 'canceled', ended_at: ATTEMPT_1 });
        expect(await h().stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'open', attempt_count: 1, next_payment_attempt: null });
      });
    });
  });

  describe('mark the subscription unpaid', () => {
    withAccount({ automaticRetryDays: [1], subscriptionAfterRetries: 'unpaid' }, (h) => {
      it('marks it unpaid, and its next renewal invoice is created but never attempted', async () => {
        const { clock, subscription, invoice } = await renewalFailingWith(h().stripe, 'pm_card_chargeCustomerFail');
        await advance(h().stripe, clock.id, LAST_ATTEMPT + 60);
        expect((await h().stripe.subscriptions.retrieve(subscription.id)).status).toBe('unpaid');
        expect(await h().stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'open', attempt_count: 2, next_payment_attempt: null });
        const before = await chargesOf(h().stripe, invoice);
        await advance(h().stripe, clock.id, T0 + 59 * DAY + 7200);
        const next = (await h().stripe.invoices.list({ subscription: subscription.id, limit: 1 })).data[0]!;
        expect(next).toMatchObject({ billing_reason: 'subscription_cycle', status: 'open', auto_advance: false, attempt_count: 0, next_payment_attempt: null });
        expect(await chargesOf(h().stripe, invoice)).toBe(before);
        expect((await h().stripe.subscriptions.retrieve(subscription.id)).status).toBe('unpaid');
      });
    });
  });

  describe('leave the subscription past due, and mark the invoice uncollectible', () => {
    withAccount({ automaticRetryDays: [1], subscriptionAfterRetries: 'past_due', invoiceAfterRetries: 'uncollectible' }, (h) => {
      it('leaves the subscription past_due and marks the invoice uncollectible (max_payment_attempts)', async () => {
        const { clock, subscription, invoice } = await renewalFailingWith(h().stripe, 'pm_card_chargeCustomerFail');
        await advance(h().stripe, clock.id, LAST_ATTEMPT + 60);
        expect((await h().stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due');
        const ended = await h().stripe.invoices.retrieve(invoice.id);
        expect(ended).toMatchObject({ status: 'uncollectible', attempt_count: 2, next_payment_attempt: null });
        expect(ended.status_details?.uncollectible?.reason).toBe('max_payment_attempts');
      });
    });
  });

  describe('leave the subscription past due (what the product README asks)', () => {
    withAccount({ automaticRetryDays: [1], subscriptionAfterRetries: 'past_due' }, (h) => {
      it('changes nothing at the end: past_due, the invoice open and no longer scheduled', async () => {
        const { clock, subscription, invoice } = await renewalFailingWith(h().stripe, 'pm_card_chargeCustomerFail');
        await advance(h().stripe, clock.id, LAST_ATTEMPT + 60);
        expect((await h().stripe.subscriptions.retrieve(subscription.id)).status).toBe('past_due');
        expect(await h().stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'open', attempt_count: 2, next_payment_attempt: null });
      });
    });
  });

  describe('no retry of a hard decline, nor without a payment method', () => {
    withAccount({ automaticRetryDays: [1, 2] }, (h) => {
      it('after a hard decline the retries charge nothing but still count, and the end action follows the schedule', async () => {
        const { clock, subscription, invoice } = await renewalFailingWith(h().stripe, 'pm_card_visa_chargeDeclinedStolenCard');
        expect(await chargesOf(h().stripe, invoice)).toBe(1);
        await advance(h().stripe, clock.id, ATTEMPT_1 + DAY + 60);
        expect(await h().stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'open', attempt_count: 2, next_payment_attempt: ATTEMPT_1 + 3 * DAY });
        expect(await chargesOf(h().stripe, invoice)).toBe(1);
        const skipped = (await h().stripe.events.list({ type: 'invoice.updated', limit: 100 })).data.find((e) => (e.data.object as Stripe.Invoice).id === invoice.id);
        expect(skipped?.data.previous_attributes).toEqual({ attempt_count: 1, next_payment_attempt: ATTEMPT_1 + DAY });

        await advance(h().stripe, clock.id, ATTEMPT_1 + 3 * DAY + 60);
        expect(await chargesOf(h().stripe, invoice)).toBe(1);
        expect(await h().stripe.invoices.retrieve(invoice.id)).toMatchObject({ attempt_count: 3, next_payment_attempt: null });
        expect((await h().stripe.subscriptions.retrieve(subscription.id)).status).toBe('canceled');
      });

      it('after a hard decline, a new payment method is charged on the next retry', async () => {
        const { clock, customer, subscription, invoice } = await renewalFailingWith(h().stripe, 'pm_card_visa_chargeDeclinedLostCard');
        const visa = await h().stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
        await h().stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: visa.id } });
        await advance(h().stripe, clock.id, ATTEMPT_1 + DAY + 60);
        expect(await h().stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'paid', attempt_count: 2 });
        expect((await h().stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
      });

      it('a soft decline is retried on the same card', async () => {
        const { clock, invoice } = await renewalFailingWith(h().stripe, 'pm_card_chargeDeclinedInsufficientFunds');
        await advance(h().stripe, clock.id, ATTEMPT_1 + DAY + 60);
        expect(await chargesOf(h().stripe, invoice)).toBe(2);
      });

      it('with no payment method left, the retries charge nothing and the end action follows the schedule', async () => {
        const { clock, customer, subscription, invoice } = await renewalFailingWith(h().stripe, 'pm_card_chargeCustomerFail');
        const card = (await h().stripe.customers.retrieve(customer.id)) as Stripe.Customer;
        await h().stripe.paymentMethods.detach(card.invoice_settings.default_payment_method as string);
        await advance(h().stripe, clock.id, ATTEMPT_1 + 3 * DAY + 60);
        expect(await chargesOf(h().stripe, invoice)).toBe(1);
        expect(await h().stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'open', attempt_count: 3, next_payment_attempt: null });
        const failures = (await h().stripe.events.list({ type: 'invoice.payment_failed', limit: 100 })).data.filter(
          (e) => (e.data.object as Stripe.Invoice).id === invoice.id,
        );
        expect(failures).toHaveLength(1);
        expect((await h().stripe.subscriptions.retrieve(subscription.id)).status).toBe('canceled');
      });
    });
  });
});
