// The product's promises to a customer hold however Stripe delivers: out of order, some events
// twice, a delivery that fails retried hours later (https://docs.stripe.com/webhooks#event-ordering,
// #handle-duplicate-events, #automatic-retries). Each seed is a different, replayable delivery.
// The promises: one case per failed invoice of a subscription, one email per stage, never a
// notice once the invoice is paid (or the subscription canceled), and the thank-you once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closedCase,
  putInWorkingCard,
  renew,
  settled,
  startTestRuntime,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  type Subscriber,
  type TestRuntime,
} from '../fixtures/scenario.ts';

const DAY = 86_400;
const NOTICES: readonly string[] = [SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended];

describe.each([7, 42, 20_261_206])('delivery as Stripe delivers it, seed %i', (seed) => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime({ dayMs: 100, delivery: 'stripe', deliverySeed: seed });
    // Warm the functions first (as provisioned concurrency would): a cold start lasts days of this
    // compressed policy time, and the webhook's second container starts on the first burst.
    await t.runtime.lambda.warm();
    await subscribeWithDecliningCard(t.stripe, `Warm Up ${seed}`);
    await settled(t.runtime);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  /** The customer's cases for this subscription, and every email they got, once nothing moves. */
  async function outcome(subscriber: Subscriber) {
    await settled(t.runtime);
    const cases = (await t.runtime.store.listCases()).filter((c) => c.subscriptionId === subscriber.subscriptionId);
    return { cases, subjects: await subjectsTo(t.runtime, subscriber.email) };
  }

  function expectOneEmailPerStage(subjects: string[]): void {
    for (const subject of new Set(subjects)) expect(subjects.filter((s) => s === subject), subject).toHaveLength(1);
  }

  it("recovers a renewal that fails through notices, Stripe's own retry and ours, once the card is updated", async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, `Card Update ${seed}`);
    let sentBeforePayment: string[] | undefined;
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (error) return;
      // Stripe's own automatic retry fails too: its invoice.payment_failed (attempt 2) joins the shuffle.
      if (state === 'Retry1') await t.stripe.testHelpers.testClocks.advance(subscriber.clockId, { frozen_time: subscriber.periodEnd + 3600 + 2 * DAY });
      if (state === 'Notice3') {
        await putInWorkingCard(t.stripe, subscriber.customerId);
        sentBeforePayment = await subjectsTo(t.runtime, subscriber.email);
      }
    });
    await renew(t.stripe, subscriber);
    const closed = await closedCase(t.runtime, subscriber.subscriptionId, 30_000);
    const { cases, subjects } = await outcome(subscriber);

    expect(cases).toHaveLength(1);
    expect(closed).toMatchObject({ status: 'recovered' });
    expect(sentBeforePayment).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3]);
    expect(subjects).toEqual([...sentBeforePayment!, SUBJECTS.recovered]);
    expectOneEmailPerStage(subjects);
  });

  it('sends no notice after a payment that races the next one, and thanks the customer once', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, `Pays Before Notice ${seed}`);
    let sentBeforePayment: string[] | undefined;
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      // The customer pays the invoice themselves just as Notice2 is due (it follows Retry1 on day 3).
      if (state === 'Retry1' && !error) {
        await t.stripe.invoices.pay(dunningCase.invoiceId, { payment_method: 'pm_card_visa' });
        sentBeforePayment = await subjectsTo(t.runtime, subscriber.email);
      }
    });
    await renew(t.stripe, subscriber);
    const closed = await closedCase(t.runtime, subscriber.subscriptionId, 30_000);
    const { cases, subjects } = await outcome(subscriber);

    expect(cases).toHaveLength(1);
    expect(closed.status).toBe('recovered');
    expect(sentBeforePayment).toEqual([SUBJECTS.notice1]);
    expect(subjects).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
    expectOneEmailPerStage(subjects);
  });

  it('sends nothing more once the subscription is canceled mid-case', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, `Cancels ${seed}`);
    let sentBeforeCancel: string[] | undefined;
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice2' && !error) {
        await t.stripe.subscriptions.cancel(subscriber.subscriptionId);
        sentBeforeCancel = await subjectsTo(t.runtime, subscriber.email);
      }
    });
    await renew(t.stripe, subscriber);
    const closed = await closedCase(t.runtime, subscriber.subscriptionId, 30_000);
    const { cases, subjects } = await outcome(subscriber);

    expect(cases).toHaveLength(1);
    expect(closed.status).not.toBe('recovered');
    expect(sentBeforeCancel).toEqual([SUBJECTS.notice1, SUBJECTS.notice2]);
    expect(subjects).toEqual(sentBeforeCancel);
    expect(subjects.filter((s) => NOTICES.includes(s))).toEqual(sentBeforeCancel);
  });
});
