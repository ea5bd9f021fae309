// An operator's pause, through the whole local workflow: a paused case sends nothing and charges
// nothing across its schedule, a new card included; resumed, it carries on where it was; a payment
// still recovers it. A pause is no failure: no stage of a paused case ends in an error (so no
// Lambda Errors alarm fires); each returns `paused` and waits in `<stage>Paused`.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { silentLog } from '#shared/dunning/deps.ts';
import { pauseCase, resumeCase } from '#shared/dunning/pause.ts';
import { systemClock } from '#shared/domain/ports.ts';
import {
  closedCase,
  caseFor,
  putInWorkingCard,
  renew,
  startTestRuntime,
  subjectsOnceThanked,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  type TestRuntime,
} from '../fixtures/scenario.ts';

const DAY_MS = 100;
/** A policy hour as the local engine waits it: a wait under a day is never shorter than 20 ms. */
const POLL_MS = Math.max(20, DAY_MS / 24);
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
/**
 * Resumes the customer's case when the test ends, passed or failed: a case left paused polls for
 * the rest of the file and slows every test after it.
 */
const resumeAtEnd = (subscriptionId: string) =>
  onTestFinished(async () => {
    const found = await caseFor(t.runtime, subscriptionId);
    if (found?.status === 'open' && found.pausedUntil) await resumeCase(operator(), found);
  });
const tasksOf = (invoiceId: string) => t.tasks.filter((task) => task.invoiceId === invoiceId);
/** The times `state` ran and found the case paused. */
const pausedRuns = (invoiceId: string, state: string) =>
  tasksOf(invoiceId).filter((task) => task.state === state && (task.output as { outcome?: string } | undefined)?.outcome === 'paused').length;
/** Every task of the case that ended in an error, as `state: ErrorName`. */
const errorsOf = (invoiceId: string) => tasksOf(invoiceId).filter((task) => task.error).map((task) => `${task.state}: ${task.error!.name}`);

describe('a case paused by an operator', () => {
  it('sends nothing and charges nothing across its whole schedule, then carries on when resumed', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Paused Patricia');
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state === 'Notice1' && !error) await pauseCase(operator(), dunningCase);
    });
    resumeAtEnd(subscriber.subscriptionId);
    const renewedAt = Date.now();
    await renew(t.stripe, subscriber);
    const opened = await pausedCaseOf(subscriber.subscriptionId);
    const invoiceId = opened.invoiceId;

    // A new card while paused: not charged now.
    await putInWorkingCard(t.stripe, subscriber.customerId);
    // Longer than the whole policy (14 days): every stage would have run by now.
    await sleep(20 * DAY_MS);
    // However slow the machine, Retry1 has been reached and has looked again a few times.
    await waitFor(async () => pausedRuns(invoiceId, 'Retry1') > 5, 20_000, 'Retry1 to look again while paused');

    const paused = await t.runtime.store.getCase(invoiceId);
    expect(paused).toMatchObject({ status: 'open', stage: 'Retry1' });
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
    expect((await t.stripe.invoices.retrieve(invoiceId)).status).toBe('open');
    const timeline = await t.runtime.store.listTimeline(invoiceId);
    expect(timeline.filter((e) => e.type === 'retry_paid' || e.type === 'retry_declined')).toEqual([]);
    expect(timeline).toContainEqual(expect.objectContaining({ type: 'retry_skipped', stage: 'CardUpdated', detail: 'case paused by operator' }));
    // Retry1 looks again about every policy hour: it keeps looking (however slow the machine), it
    // is a poll and not a busy loop (never more than one look per hour waited), and never an error.
    expect(pausedRuns(invoiceId, 'Retry1')).toBeLessThanOrEqual(Math.ceil((Date.now() - renewedAt) / POLL_MS) + 1);
    expect(errorsOf(invoiceId)).toEqual([]);

    await resumeCase(operator(), paused!);
    const recovered = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();

    // The first stage after the pause charged the new card.
    expect(recovered).toMatchObject({ status: 'recovered', recoveredBy: 'workflow_retry', stage: 'Retry1' });
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
    expect((await t.runtime.store.listTimeline(invoiceId)).map((e) => e.type)).toEqual(
      expect.arrayContaining(['paused', 'resumed', 'retry_paid', 'recovered']),
    );
    expect(errorsOf(invoiceId)).toEqual([]);
  });

  it('waits the same way at a notice stage and at Terminate, without an error, and goes on when resumed', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Paused Twice');
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      // Paused just after each of these: the stage that runs next (Notice2, then Terminate) finds it paused.
      if ((state === 'Retry1' || state === 'Retry3') && !error) await pauseCase(operator(), dunningCase);
    });
    resumeAtEnd(subscriber.subscriptionId);
    await renew(t.stripe, subscriber);
    const { invoiceId } = await pausedCaseOf(subscriber.subscriptionId);

    await waitFor(async () => pausedRuns(invoiceId, 'Notice2') >= 3, 10_000, 'Notice2 to look again while paused');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
    await resumeCase(operator(), (await t.runtime.store.getCase(invoiceId))!);
    await waitFor(async () => pausedRuns(invoiceId, 'terminate') >= 3, 10_000, 'Terminate to look again while paused');
    expect((await t.runtime.store.getCase(invoiceId))?.status).toBe('open');
    expect((await t.stripe.subscriptions.retrieve(subscriber.subscriptionId)).status).not.toBe('canceled');
    await resumeCase(operator(), (await t.runtime.store.getCase(invoiceId))!);

    const terminated = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();
    expect(terminated.status).toBe('terminated');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
    expect(errorsOf(invoiceId)).toEqual([]);
  });

  it('is still recovered, and the customer thanked, when they pay during the pause', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Paying Paula');
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state === 'Notice1' && !error) await pauseCase(operator(), dunningCase);
    });
    resumeAtEnd(subscriber.subscriptionId);
    await renew(t.stripe, subscriber);
    const opened = await pausedCaseOf(subscriber.subscriptionId);

    // The customer pays the invoice themselves (the hosted page), with a card of their own.
    const card = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: subscriber.customerId });
    await t.stripe.invoices.pay(opened.invoiceId, { payment_method: card.id });

    const recovered = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();
    expect(recovered.status).toBe('recovered');
    // The case closes before its thank-you goes out (the webhook sends it): wait for it.
    expect(await subjectsOnceThanked(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
    expect(errorsOf(opened.invoiceId)).toEqual([]);
  });
});
