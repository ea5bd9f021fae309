// An account left on Stripe's default end of retries ("Manage failed payments": cancel the
// subscription) ends the case mid-policy: Stripe's last retry fails and Stripe cancels the
// subscription itself (`customer.subscription.deleted`, `cancellation_details.reason:
// "payment_failed"`). The case closes from outside, nothing more is charged or sent on the policy's
// schedule, and the customer is told their subscription has ended.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  caseFor,
  closedCase,
  deliver,
  latestEvent,
  renew,
  retrySteps,
  startTestRuntime,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  type TestRuntime,
} from '../fixtures/scenario.ts';

const DAY = 86_400;

describe("an account that cancels on its own at the end of Stripe's retries", () => {
  let s: TestRuntime;
  beforeAll(async () => {
    // Days last a minute, so the policy stands at its first notice while Stripe retries once, a day
    // after the renewal's attempt, and then cancels (Stripe's default, STRIPE_SANDBOX_END_OF_RETRIES=cancel).
    s = await startTestRuntime({ dayMs: 60_000, stripeRetryDays: [1], stripeEndOfRetries: 'cancel' });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('closes the case when Stripe cancels, tells the customer the subscription ended, once, and charges nothing more', async () => {
    const subscriber = await subscribeWithDecliningCard(s.stripe, 'Stripe Cancels');
    await renew(s.stripe, subscriber);
    await waitFor(async () => (await subjectsTo(s.runtime, subscriber.email)).length === 1, 10_000, 'notice 1');
    const invoiceId = (await caseFor(s.runtime, subscriber.subscriptionId))!.invoiceId;

    await s.stripe.testHelpers.testClocks.advance(subscriber.clockId, { frozen_time: subscriber.periodEnd + 3600 + DAY + 60 });
    const closed = await closedCase(s.runtime, subscriber.subscriptionId, 10_000);
    expect(closed).toMatchObject({ status: 'closed', closedReason: 'subscription canceled by Stripe after its retries failed' });
    const subscription = await s.stripe.subscriptions.retrieve(subscriber.subscriptionId);
    expect(subscription).toMatchObject({ status: 'canceled', cancellation_details: { reason: 'payment_failed' } });
    await waitFor(async () => (await subjectsTo(s.runtime, subscriber.email)).includes(SUBJECTS.ended), 10_000, 'the end email');

    // A redelivery of Stripe's cancellation tells nobody twice.
    const deleted = await latestEvent(s.stripe, 'customer.subscription.deleted', subscriber.subscriptionId);
    expect((await deliver(s.runtime, deleted)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(await subjectsTo(s.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.ended]);
    expect(await retrySteps(s.runtime, invoiceId)).toEqual([]);
    const invoice = await s.stripe.invoices.retrieve(invoiceId);
    expect(invoice).toMatchObject({ status: 'open', attempt_count: 2, next_payment_attempt: null });
    // The execution was stopped at its first wait: no later stage ran.
    expect(s.tasks.filter((task) => task.invoiceId === invoiceId).map((task) => task.state)).toEqual(['Notice1']);
    const banner = await s.runtime.store.getBanner(subscriber.customerId);
    expect(banner).toBeUndefined();
  });
});
