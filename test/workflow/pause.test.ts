// An operator's pause, through the whole local workflow: a paused case sends nothing and charges
// nothing across its schedule, a new card included; resumed, it carries on where it was; a payment
// still recovers it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLog } from '#shared/dunning/deps.ts';
import { pauseCase, resumeCase } from '#shared/dunning/pause.ts';
import { systemClock } from '#shared/domain/ports.ts';
import {
  closedCase,
  caseFor,
  putInWorkingCard,
  renew,
  startTestRuntime,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  type TestRuntime,
} from '../fixtures/scenario.ts';

const DAY_MS = 100;
let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ dayMs: DAY_MS });
});
afterAll(async () => {
  await t?.close();
});

const operator = () => ({ store: t.runtime.store, clock: systemClock, log: silentLog });
const pausedCaseOf = (subscriptionId: string) =>
  waitFor(async () => {
    const found = await caseFor(t.runtime, subscriptionId);
    return found?.pausedUntil ? found : undefined;
  }, 10_000, 'the pause');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a case paused by an operator', () => {
  it('sends nothing and charges nothing across its whole schedule, then carries on when resumed', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Paused Patricia');
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state === 'Notice1' && !error) await pauseCase(operator(), dunningCase);
    });
    await renew(t.stripe, subscriber);
    const opened = await pausedCaseOf(subscriber.subscriptionId);
    const invoiceId = opened.invoiceId;

    // A new card while paused: not charged now.
    await putInWorkingCard(t.stripe, subscriber.customerId);
    // Longer than the whole policy (14 days): every stage would have run by now.
    await sleep(20 * DAY_MS);

    const paused = await t.runtime.store.getCase(invoiceId);
    expect(paused).toMatchObject({ status: 'open', stage: 'Retry1' });
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
    expect((await t.stripe.invoices.retrieve(invoiceId)).status).toBe('open');
    const timeline = await t.runtime.store.listTimeline(invoiceId);
    expect(timeline.filter((e) => e.type === 'retry_paid' || e.type === 'retry_declined')).toEqual([]);
    expect(timeline).toContainEqual(expect.objectContaining({ type: 'retry_skipped', stage: 'CardUpdated', detail: 'case paused by operator' }));
    // Retry1 looks again about every policy hour: a poll, not a busy loop.
    const polls = t.tasks.filter((task) => task.invoiceId === invoiceId && task.state === 'Retry1' && task.error?.name === 'CasePausedError').length;
    expect(polls).toBeGreaterThan(5);
    expect(polls).toBeLessThan(20 * 24 + 10);

    await resumeCase(operator(), paused!);
    const recovered = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();

    // The first stage after the pause charged the new card.
    expect(recovered).toMatchObject({ status: 'recovered', recoveredBy: 'workflow_retry', stage: 'Retry1' });
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
    expect((await t.runtime.store.listTimeline(invoiceId)).map((e) => e.type)).toEqual(
      expect.arrayContaining(['paused', 'resumed', 'retry_paid', 'recovered']),
    );
  });

  it('is still recovered, and the customer thanked, when they pay during the pause', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Paying Paula');
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state === 'Notice1' && !error) await pauseCase(operator(), dunningCase);
    });
    await renew(t.stripe, subscriber);
    const opened = await pausedCaseOf(subscriber.subscriptionId);

    // The customer pays the invoice themselves (the hosted page), with a card of their own.
    const card = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: subscriber.customerId });
    await t.stripe.invoices.pay(opened.invoiceId, { payment_method: card.id });

    const recovered = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();
    expect(recovered.status).toBe('recovered');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
  });
});
