// With `retries: "stripe"` the customer's notices follow Stripe's own attempts: each failed attempt
// sends the next notice at once. The sandbox account runs Stripe's automatic retries here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyWith, writePolicyFile } from '../fixtures/policies.ts';
import {
  caseFor,
  deliver,
  putInWorkingCard,
  retrySteps,
  forgetProcessedEvents,
  latestEvent,
  renew,
  startTestRuntime,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  type TestRuntime,
} from '../fixtures/scenario.ts';

const DAY = 86_400;

/** Every event so far delivered and handled (the executions keep waiting: a day is a minute here). */
async function quiet(t: TestRuntime): Promise<void> {
  for (let round = 0; round < 2; round++) {
    await t.runtime.sandbox!.idle();
    await t.runtime.lambda.idle();
  }
}

describe('retries: "stripe" with Stripe retrying on its own schedule', () => {
  let s: TestRuntime;
  beforeAll(async () => {
    const policyFile = writePolicyFile(policyWith((p) => {
      p.retries = 'stripe';
    }));
    // Days last a minute, so the policy's own schedule stands still: only Stripe's attempts move.
    s = await startTestRuntime({ dayMs: 60_000, policyFile, stripeRetryDays: [1, 2] });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("sends the next notice as each of Stripe's attempts fails, once, and never past the attempt", async () => {
    const subscriber = await subscribeWithDecliningCard(s.stripe, 'Follows Stripe');
    await renew(s.stripe, subscriber);
    await waitFor(async () => (await subjectsTo(s.runtime, subscriber.email)).length === 1, 10_000, 'notice 1');

    // Stripe's second attempt, a day after the failure, declines: notice 2 goes now, not on day 3.
    await s.stripe.testHelpers.testClocks.advance(subscriber.clockId, { frozen_time: subscriber.periodEnd + 3600 + DAY + 60 });
    await waitFor(async () => (await subjectsTo(s.runtime, subscriber.email)).length === 2, 10_000, 'notice 2');
    const invoiceId = (await caseFor(s.runtime, subscriber.subscriptionId))!.invoiceId;
    const secondAttempt = await latestEvent(s.stripe, 'invoice.payment_failed', invoiceId);

    // The third, two days later: notice 3. Then Stripe's schedule is over.
    await s.stripe.testHelpers.testClocks.advance(subscriber.clockId, { frozen_time: subscriber.periodEnd + 3600 + 3 * DAY + 120 });
    await waitFor(async () => (await subjectsTo(s.runtime, subscriber.email)).length === 3, 10_000, 'notice 3');

    // A late redelivery of the second attempt's event, after its dedupe record is gone, sends nothing
    // and is not counted again.
    await forgetProcessedEvents(s.runtime);
    expect((await deliver(s.runtime, secondAttempt)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const invoice = await s.stripe.invoices.retrieve(invoiceId);
    expect(invoice.attempt_count).toBe(3);
    expect(invoice.next_payment_attempt).toBeNull();
    expect(await subjectsTo(s.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3]);
    const timeline = await s.runtime.store.listTimeline(invoiceId);
    expect(timeline.filter((e) => e.type === 'stripe_attempt_failed').map((e) => e.detail)).toEqual([
      `${invoiceId} attempt 2`,
      `${invoiceId} attempt 3`,
    ]);
    // The policy's schedule has not reached day 3: these notices followed Stripe, not the clock.
    expect(s.tasks.filter((task) => task.invoiceId === invoiceId).map((task) => task.state)).toEqual(['Notice1']);
  });

  it("sends no early notice for manual attempts between Stripe's: our card-update charge and the customer's hosted-page payment", async () => {
    const subscriber = await subscribeWithDecliningCard(s.stripe, 'Manual Between');
    await renew(s.stripe, subscriber);
    await waitFor(async () => (await subjectsTo(s.runtime, subscriber.email)).length === 1, 10_000, 'notice 1');
    const invoiceId = (await caseFor(s.runtime, subscriber.subscriptionId))!.invoiceId;

    // The customer puts in another card that declines: the product charges it at once, and fails.
    await putInWorkingCard(s.stripe, subscriber.customerId, 'pm_card_chargeDeclinedInsufficientFunds');
    await waitFor(async () => (await retrySteps(s.runtime, invoiceId)).some((step) => step.startsWith('retry_declined:CardUpdated')), 10_000, 'the card-update charge');
    // Then tries a declining card on the hosted invoice page.
    const invoice = await s.stripe.invoices.retrieve(invoiceId);
    const page = await fetch(`${invoice.hosted_invoice_url!}/pay`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ card: 'pm_card_chargeCustomerFail' }).toString(),
    });
    expect(await page.text()).toContain('Your card was declined.');
    await quiet(s);

    // More invoice.payment_failed went out (the card-update charge, the hosted page), none Stripe's
    // own: no notice 2, nothing counted.
    const failures = (await s.stripe.events.list({ type: 'invoice.payment_failed', limit: 100 })).data.filter(
      (e) => (e.data.object as { id?: string }).id === invoiceId,
    );
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(failures.filter((e) => e.request?.id === null)).toHaveLength(1);
    expect(failures.filter((e) => e.request?.idempotency_key === null && e.request?.id)).toHaveLength(1);
    expect((await s.stripe.invoices.retrieve(invoiceId)).attempt_count).toBe(1);
    expect(await subjectsTo(s.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
    const timeline = await s.runtime.store.listTimeline(invoiceId);
    expect(timeline.filter((e) => e.type === 'stripe_attempt_failed')).toEqual([]);

    // Stripe's own second attempt, a day after the first, still sends notice 2, once.
    await s.stripe.testHelpers.testClocks.advance(subscriber.clockId, { frozen_time: subscriber.periodEnd + 3600 + DAY + 60 });
    await waitFor(async () => (await subjectsTo(s.runtime, subscriber.email)).length === 2, 10_000, 'notice 2');
    await quiet(s);
    expect(await subjectsTo(s.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2]);
  });
});
