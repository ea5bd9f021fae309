// Each class of failure the retry rules tell apart (README, "When a retry charges"), end to end: the
// renewal's own attempt declines with a sandbox test card of that class, and the case is followed to
// its close. What a merchant would check: which charges reached the card, what the case's timeline
// says about each retry and why, that every charge is on the case's record with who made it, and
// that no charge broke the rules (WastedAttempt stays 0).
import type Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NextRetry } from '#shared/domain/case.ts';
import type { ChargeAttempt } from '#shared/domain/retry-records.ts';
import { annualPolicyFile, defaultPolicy, writePolicyFile } from '../fixtures/policies.ts';
import {
  closedCase,
  emittedMetrics,
  putInWorkingCard,
  renew,
  retrySteps,
  settled,
  startTestRuntime,
  subjectsOnceThanked,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  type Subscriber,
  type TestRuntime,
} from '../fixtures/scenario.ts';

/**
 * A back-off long enough to move the first retry off its day (76 hours after a Monday 10:00 failure
 * is Thursday 14:00; Retry1's day is Thursday 10:00), chosen by subscription metadata.
 */
const SLOW_BACKOFF = { retry_test: 'slow_backoff' };

let t: TestRuntime;
beforeAll(async () => {
  const slow = structuredClone(defaultPolicy()) as Record<string, any>;
  slow.retryTiming = { backoff: { firstHours: 76, multiplier: 1 } };
  const policyFile = writePolicyFile(
    annualPolicyFile((file) => {
      file.policies = { default: file.policies.default, slow_backoff: slow };
      file.segments = [{ when: { metadata: SLOW_BACKOFF }, policy: 'slow_backoff' }];
      file.alsoNotify = [];
    }),
  );
  t = await startTestRuntime({ dayMs: 100, policyFile });
});
afterAll(async () => {
  await t?.close();
});

let metricsSince = 0;
beforeEach(() => {
  metricsSince = emittedMetrics(t.runtime).length;
});

const RETRY_STAGES = ['Retry1', 'Retry2', 'Retry3'];

describe('a hard decline on the renewal (never this card again)', () => {
  it.each([
    // [token, what the rule that stops it says]: Mastercard's advice 03 comes with do_not_honor, a
    // code that alone would be retried on the policy's day; the issuer's advice decides.
    ['pm_card_visa_chargeDeclinedStolenCard', 'do_not_try_again from the issuer (stolen_card)'],
    ['pm_card_mastercard_chargeDeclinedDoNotTryAgain', 'do_not_try_again from the issuer (do_not_honor)'],
    // Mastercard's advice 21: the cardholder stopped the recurring payment.
    ['pm_card_mastercard_chargeDeclinedPaymentCancelled', 'do_not_try_again from the issuer (revocation_of_authorization)'],
  ])('charges %s only on the renewal; each retry is skipped naming the rule; the notices go out and the case terminates', async (token, rule) => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, `Class Hard ${token}`, token);
    const card = await defaultCard(subscriber.customerId);

    const { dunningCase, timeline } = await runCase(subscriber);

    expect(await chargesOn(subscriber.customerId, card)).toHaveLength(1);
    expect(dunningCase.status).toBe('terminated');
    expect(dunningCase.chargeAttempts?.[0]?.failure).toMatchObject({ class: 'hard', stopsCard: true });
    expect(skips(timeline)).toEqual(RETRY_STAGES.map((stage) => `${stage}: retry skipped: ${rule}; waiting for a new card`));
    expect(plans(timeline)).toEqual([]);
    expect(attemptsBy(dunningCase)).toEqual(['stripe:declined']);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
    expect(wastedAttempts()).toBe(0);
  });

  it('charges a new working card at once and recovers the case, without charging the stolen card again', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Class Hard New Card', 'pm_card_visa_chargeDeclinedStolenCard');
    const stolen = await defaultCard(subscriber.customerId);
    let replacement = '';
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice2' && !error) replacement = await putInWorkingCard(t.stripe, subscriber.customerId);
    });

    const { dunningCase, timeline } = await runCase(subscriber);

    expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy: 'card_updated' });
    expect(await chargesOn(subscriber.customerId, stolen)).toHaveLength(1);
    expect(await chargesOn(subscriber.customerId, replacement)).toHaveLength(1);
    expect(skips(timeline)).toEqual(['Retry1: retry skipped: do_not_try_again from the issuer (stolen_card); waiting for a new card']);
    expect(attemptsBy(dunningCase)).toEqual(['stripe:declined', 'card_update:paid']);
    expect(dunningCase.chargeAttempts?.[1]?.card).toBe(replacement);
    expect(await subjectsOnceThanked(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.recovered]);
    expect(wastedAttempts()).toBe(0);
  });
});

describe('insufficient funds on the renewal (retry later, on a payday)', () => {
  it('charges the card at every retry, each planned inside weekday business hours for insufficient_funds', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Class Insufficient Funds', 'pm_card_visa_chargeDeclinedInsufficientFunds');
    const card = await defaultCard(subscriber.customerId);
    let firstPlan: NextRetry | undefined;
    t.onStage(subscriber.customerId, ({ state, error, dunningCase }) => {
      if (state === 'Notice1' && !error) firstPlan = dunningCase.nextRetry;
    });

    const { dunningCase, timeline } = await runCase(subscriber);
    const retries = workflowAttempts(dunningCase);

    expect(dunningCase.status).toBe('terminated');
    expect(dunningCase.chargeAttempts?.[0]?.failure).toMatchObject({ class: 'retry_later', timing: 'payday', code: 'insufficient_funds' });
    expect(attemptsBy(dunningCase)).toEqual(['stripe:declined', ...RETRY_STAGES.map(() => 'workflow:declined')]);
    expect(await chargesOn(subscriber.customerId, card)).toHaveLength(1 + retries.length);
    expect(plans(timeline).map((p) => p.stage)).toEqual(RETRY_STAGES);
    for (const plan of plans(timeline)) {
      expect(plan.reason).toMatch(/^insufficient_funds; /);
      expect(insideWeekdayHours(plan.at), `${plan.stage} at ${plan.at.toISOString()}`).toBe(true);
    }
    // Each retry charged at the moment its plan gave.
    expect(retries.map((a) => a.at)).toEqual(plans(timeline).map((p) => p.at.toISOString()));
    expect(firstPlan).toMatchObject({ stage: 'Retry1', at: plans(timeline)[0]!.at.toISOString() });
    expect(skips(timeline)).toEqual([]);
    expect(wastedAttempts()).toBe(0);
  });
});

describe('a try-again-later decline on the renewal (retry later, backing off)', () => {
  it.each([
    // [token, the failure's class of timing, its reason]
    ['pm_card_visa_chargeDeclinedTryAgainLater', 'backoff', 'try_again_later; try_again_later from the issuer'],
    ['pm_card_mastercard_chargeDeclinedRetryAfter24Hours', 'after', 'Mastercard advice 25, retry after 24 hours (insufficient_funds)'],
  ])('charges %s at every retry, each no sooner than the wait after the charge before it', async (token, timing, reason) => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, `Class Later ${token}`, token);
    const card = await defaultCard(subscriber.customerId);

    const { dunningCase, timeline } = await runCase(subscriber);
    const attempts = dunningCase.chargeAttempts ?? [];

    expect(dunningCase.status).toBe('terminated');
    expect(attempts[0]?.failure).toMatchObject({ class: 'retry_later', timing, reason });
    expect(attemptsBy(dunningCase)).toEqual(['stripe:declined', ...RETRY_STAGES.map(() => 'workflow:declined')]);
    expect(await chargesOn(subscriber.customerId, card)).toHaveLength(attempts.length);
    expect(plans(timeline).map((p) => p.stage)).toEqual(RETRY_STAGES);
    // 24 hours after the renewal, then 48 and 96 after each further try-again-later (or the
    // network's 24 each time): the policy's days are further apart, so no plan had to move.
    for (let i = 1; i < attempts.length; i += 1) {
      expect(hoursBetween(attempts[i - 1]!, attempts[i]!)).toBeGreaterThanOrEqual(timing === 'after' ? 24 : 24 * 2 ** (i - 1));
    }
    expect(emitted('RetryScheduled').map((m) => m.dimensions.Reason)).toEqual(RETRY_STAGES.map(() => timing));
    expect(wastedAttempts()).toBe(0);
  });

  it('moves the first retry off its day when the back-off outlasts it, and says so', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Class Later Slow Backoff', 'pm_card_visa_chargeDeclinedTryAgainLater', {
      metadata: SLOW_BACKOFF,
    });
    const card = await defaultCard(subscriber.customerId);

    const { dunningCase, timeline } = await runCase(subscriber);
    const [opening, retry1] = dunningCase.chargeAttempts ?? [];
    const [plan1] = plans(timeline);

    expect(dunningCase).toMatchObject({ status: 'terminated', policy: 'slow_backoff' });
    expect(plan1?.reason).toMatch(/^try_again_later; backing off 76 hours; /);
    expect(hoursBetween(opening!, retry1!)).toBeGreaterThanOrEqual(76);
    expect(insideWeekdayHours(plan1!.at)).toBe(true);
    expect(await chargesOn(subscriber.customerId, card)).toHaveLength((dunningCase.chargeAttempts ?? []).length);
    expect(wastedAttempts()).toBe(0);
  });
});

describe('a processing error on the renewal', () => {
  it('is classified processing_error and the retries go on charging the card', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Class Processing Error', 'pm_card_chargeDeclinedProcessingError');
    const card = await defaultCard(subscriber.customerId);

    const { dunningCase, timeline } = await runCase(subscriber);

    expect(dunningCase.status).toBe('terminated');
    expect(dunningCase.chargeAttempts?.[0]?.failure).toMatchObject({ class: 'processing_error', code: 'processing_error', stopsCard: false });
    expect(attemptsBy(dunningCase)).toEqual(['stripe:declined', ...RETRY_STAGES.map(() => 'workflow:declined')]);
    expect(await chargesOn(subscriber.customerId, card)).toHaveLength(1 + RETRY_STAGES.length);
    expect(plans(timeline).map((p) => `${p.stage}: ${p.reason.split(';')[0]}`)).toEqual(RETRY_STAGES.map((stage) => `${stage}: processing_error`));
    expect(skips(timeline)).toEqual([]);
    expect(wastedAttempts()).toBe(0);
  });
});

describe('a decline only the customer can clear', () => {
  it('asks the customer to authenticate once and never charges the card blindly', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Class Needs 3DS', 'pm_card_authenticationRequired');
    const card = await defaultCard(subscriber.customerId);

    const { dunningCase, timeline } = await runCase(subscriber);
    const subjects = await subjectsTo(t.runtime, subscriber.email);

    expect(dunningCase.status).toBe('terminated');
    expect(dunningCase.chargeAttempts?.[0]?.failure).toMatchObject({ class: 'needs_customer', stopsCard: true });
    // The renewal's attempt waits for the customer (requires_action) and creates no charge until
    // they authenticate; nothing after it asked Stripe again.
    expect(await chargesOn(subscriber.customerId, card)).toHaveLength(0);
    expect((await t.stripe.invoices.retrieve(dunningCase.invoiceId)).attempt_count).toBe(1);
    expect(subjects.filter((s) => s === SUBJECTS.actionRequired)).toHaveLength(1);
    expect(skips(timeline)).toEqual(
      RETRY_STAGES.map((stage) => `${stage}: retry skipped: the bank wants the customer to authenticate (3-D Secure); waiting for the customer`),
    );
    expect(attemptsBy(dunningCase)).toEqual(['stripe:declined']);
    expect(wastedAttempts()).toBe(0);
  });

  it.each([
    ['pm_card_chargeDeclinedExpiredCard', 'confirm_card_data from the issuer (expired_card)'],
    ['pm_card_chargeDeclinedIncorrectCvc', 'confirm_card_data from the issuer (incorrect_cvc)'],
  ])('waits for new details of %s: no retry charges it, and every notice asks for them', async (token, rule) => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, `Class Customer ${token}`, token);
    const card = await defaultCard(subscriber.customerId);

    const { dunningCase, timeline } = await runCase(subscriber);

    expect(dunningCase.status).toBe('terminated');
    expect(dunningCase.chargeAttempts?.[0]?.failure).toMatchObject({ class: 'needs_customer', stopsCard: true });
    expect(await chargesOn(subscriber.customerId, card)).toHaveLength(1);
    expect(skips(timeline)).toEqual(RETRY_STAGES.map((stage) => `${stage}: retry skipped: ${rule}; waiting for the customer`));
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
    expect(attemptsBy(dunningCase)).toEqual(['stripe:declined']);
    expect(wastedAttempts()).toBe(0);
  });
});

describe('no card to charge (the customer removed their only card)', () => {
  it('charges nothing at the retries after the removal and says why', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Class No Card');
    const card = await defaultCard(subscriber.customerId);
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      // What the customer does in the portal: detaches the card, leaving none.
      if (state === 'Notice1' && !error) await t.stripe.paymentMethods.detach(card);
    });

    const { dunningCase, timeline } = await runCase(subscriber);

    expect(dunningCase.status).toBe('terminated');
    expect(await chargesOn(subscriber.customerId, card)).toHaveLength(1);
    expect((await t.stripe.invoices.retrieve(dunningCase.invoiceId)).attempt_count).toBe(1);
    expect(timeline.filter((e) => e.type === 'card_removed').map((e) => e.detail)).toEqual([`${card}: payment_method.detached`]);
    expect(await retrySteps(t.runtime, dunningCase.invoiceId)).toEqual(RETRY_STAGES.map((stage) => `retry_declined:${stage}:no_payment_method`));
    expect(attemptsBy(dunningCase)).toEqual(['stripe:declined']);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
    expect(wastedAttempts()).toBe(0);
  });
});

// Helpers

type TimelineEntry = Awaited<ReturnType<TestRuntime['runtime']['store']['listTimeline']>>[number];

/** Renews the subscription, waits for its case to close and for everything to settle. */
async function runCase(subscriber: Subscriber) {
  await renew(t.stripe, subscriber);
  const closed = await closedCase(t.runtime, subscriber.subscriptionId);
  await settled(t.runtime);
  const dunningCase = (await t.runtime.store.getCase(closed.invoiceId)) ?? closed;
  return { dunningCase, timeline: await t.runtime.store.listTimeline(closed.invoiceId) };
}

/** The customer's default card (the declining one, right after subscribing). */
async function defaultCard(customerId: string): Promise<string> {
  const customer = (await t.stripe.customers.retrieve(customerId)) as Stripe.Customer;
  return customer.invoice_settings.default_payment_method as string;
}

/** Every charge Stripe made on the card, whoever asked for it. */
async function chargesOn(customerId: string, card: string): Promise<Stripe.Charge[]> {
  return (await t.stripe.charges.list({ customer: customerId, limit: 100 })).data.filter((c) => c.payment_method === card);
}

/** The case's record of charges as `by:outcome`, oldest first. */
const attemptsBy = (dunningCase: { chargeAttempts?: ChargeAttempt[] }) => (dunningCase.chargeAttempts ?? []).map((a) => `${a.by}:${a.outcome}`);

const workflowAttempts = (dunningCase: { chargeAttempts?: ChargeAttempt[] }) => (dunningCase.chargeAttempts ?? []).filter((a) => a.by === 'workflow');

/** The retries the rules planned: `retry scheduled 2027-01-07T10:00+00:00 (UTC): <reason>`. */
function plans(timeline: TimelineEntry[]): Array<{ stage: string; at: Date; reason: string }> {
  return timeline
    .filter((e) => e.type === 'retry_scheduled')
    .map((e) => {
      const [, at, reason] = /^retry scheduled (\S+) \(UTC\): (.*)$/.exec(e.detail ?? '') ?? [];
      if (!at || reason === undefined) throw new Error(`unreadable plan of ${e.stage}: ${e.detail}`);
      return { stage: e.stage ?? '', at: new Date(at), reason };
    });
}

/** The retries skipped, as `stage: detail`. */
const skips = (timeline: TimelineEntry[]) => timeline.filter((e) => e.type === 'retry_skipped').map((e) => `${e.stage}: ${e.detail}`);

/** Monday to Friday, 09:00 to 18:00 in the policy's zone, UTC. */
function insideWeekdayHours(at: Date): boolean {
  const day = at.getUTCDay();
  const minutes = at.getUTCHours() * 60 + at.getUTCMinutes();
  return day >= 1 && day <= 5 && minutes >= 9 * 60 && minutes < 18 * 60;
}

const hoursBetween = (earlier: ChargeAttempt, later: ChargeAttempt) => (Date.parse(later.at) - Date.parse(earlier.at)) / 3_600_000;

/** The business metrics emitted since this test began. */
const emitted = (name: string) => emittedMetrics(t.runtime).slice(metricsSince).filter((m) => m.name === name);

/** Charges that broke the retry rules, since this test began: must stay 0. */
const wastedAttempts = () => emitted('WastedAttempt').reduce((sum, m) => sum + m.value, 0);
