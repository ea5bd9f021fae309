// A stage that must not act stands down with a result the state machine branches on, never with a
// Lambda error (every function's Errors alarm counts those): a case closed under a running stage
// ends the execution in CaseClosed. An execution started under the earlier definition, which retries
// and catches the errors instead, still gets them, and still pauses and resumes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as closeCaseHandler } from '#functions/close-case/handler.ts';
import { createHandler as retryPaymentHandler } from '#functions/retry-payment/handler.ts';
import { createHandler as sendNoticeHandler } from '#functions/send-notice/handler.ts';
import { LOCAL_STATE_MACHINE_ARN } from '#local/runtime.ts';
import { startLocalStepFunctions } from '#local/stepfunctions.ts';
import { executionArnFor } from '#shared/adapters/sfn-workflow.ts';
import { systemClock } from '#shared/domain/ports.ts';
import { silentLog } from '#shared/dunning/deps.ts';
import { PAUSE_POLL_SECONDS } from '#shared/domain/pause-limits.ts';
import { pauseCase, resumeCase } from '#shared/dunning/pause.ts';
import type { StateMachineDefinition } from '#shared/workflow/definition.ts';
import { definitionBeforeStandDown } from '../fixtures/earlier-definition.ts';
import { startEngine, type Engine } from '../fixtures/engine.ts';
import {
  closedCase,
  renew,
  startTestRuntime,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  withDeliveriesPaused,
  type TestRuntime,
} from '../fixtures/scenario.ts';
import { openCaseQuietly, realDeps } from '../fixtures/stage-deps.ts';

const DAY_MS = 100;
let t: TestRuntime;
beforeAll(async () => {
  // The earlier definition's executions keep the earlier contract: their paused stages still throw
  // CasePausedError, which counts as a Lambda error until those executions have ended.
  t = await startTestRuntime({ dayMs: DAY_MS, expectAlarms: ['SendNoticeErrors'] });
});
afterAll(async () => {
  await t?.close();
});

const operator = () => ({ store: t.runtime.store, clock: systemClock, log: silentLog });
const errorsOf = (invoiceId: string) =>
  t.tasks.filter((task) => task.invoiceId === invoiceId && task.error).map((task) => `${task.state}: ${task.error!.name}`);
const statesOf = (invoiceId: string) =>
  (t.runtime.stepFunctions.executions.get(executionArnFor(LOCAL_STATE_MACHINE_ARN, invoiceId))?.history ?? [])
    .filter((event) => String(event.type).endsWith('StateEntered'))
    .map((event) => (event.stateEnteredEventDetails as { name: string }).name);

describe('a case that closes under a running stage', () => {
  it.each([
    // [what happens after this stage, the stage that then finds the case closed, the Choice it goes through]
    ['Retry1', 'paid out of band', 'Notice2', 'Notice2StoodDown'],
    ['Notice2', 'voided', 'Retry2', 'Retry2Paid'],
    ['Retry3', 'paid out of band', 'Terminate', 'TerminateStoodDown'],
  ])('after %s, %s in Stripe unheard: %s stands down without an error and the execution ends in CaseClosed', async (after, what, stage, choice) => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, `Closed Under ${stage}`);
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state !== after || error) return;
      await withDeliveriesPaused(t.runtime, () =>
        what === 'voided' ? t.stripe.invoices.voidInvoice(dunningCase.invoiceId) : t.stripe.invoices.pay(dunningCase.invoiceId, { paid_out_of_band: true }),
      );
    });

    await renew(t.stripe, subscriber);
    const closed = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();

    const states = statesOf(closed.invoiceId);
    expect(states.slice(-3)).toEqual([stage, choice, 'CaseClosed']);
    expect(t.runtime.stepFunctions.executions.get(executionArnFor(LOCAL_STATE_MACHINE_ARN, closed.invoiceId))?.status).toBe('SUCCEEDED');
    expect(t.tasks.find((task) => task.invoiceId === closed.invoiceId && task.state === stage.replace('Terminate', 'terminate'))?.output).toMatchObject({
      outcome: 'closed',
    });
    expect(errorsOf(closed.invoiceId)).toEqual([]);
    if (what === 'voided') {
      expect(closed).toMatchObject({ status: 'closed', closedReason: 'invoice voided in Stripe' });
    } else {
      // The stage recovered the case itself (send-notice and close-case have a sender) and thanked them once.
      expect(closed).toMatchObject({ status: 'recovered', recoveredBy: 'out_of_band' });
      expect((await subjectsTo(t.runtime, subscriber.email)).filter((s) => s === SUBJECTS.recovered)).toHaveLength(1);
    }
    expect(await subjectsTo(t.runtime, subscriber.email)).not.toContain(SUBJECTS.ended);
  });
});

describe('the stage contract', () => {
  const refusingSender = () => realDeps(t, { mailer: { send: () => Promise.reject(new Error('DUNNING_SENDER is not set for this function')) } });
  const handlers = {
    notice: (input: Record<string, unknown>) => sendNoticeHandler(async () => realDeps(t))({ action: 'notice', stage: 'Notice1', ...input }),
    retry: (input: Record<string, unknown>) => retryPaymentHandler(async () => refusingSender())({ action: 'retry', stage: 'Retry1', ...input }),
    terminate: (input: Record<string, unknown>) => closeCaseHandler(async () => realDeps(t))({ action: 'terminate', ...input }),
  };

  it.each(Object.keys(handlers) as Array<keyof typeof handlers>)('%s: returns paused or closed under this definition, and throws them for an earlier one', async (action) => {
    const run = handlers[action];
    const c = await openCaseQuietly(t, `Contract ${action}`);
    const { pausedUntil } = await pauseCase(operator(), c);

    await expect(run({ invoiceId: c.invoiceId })).rejects.toMatchObject({ name: 'CasePausedError' });
    await expect(run({ invoiceId: c.invoiceId, standDown: 'return' })).resolves.toEqual({ outcome: 'paused', pausedUntil });

    await realDeps(t).store.closeCase(c.invoiceId, 'closed', { now: new Date().toISOString(), reason: 'test' });
    await expect(run({ invoiceId: c.invoiceId })).rejects.toMatchObject({ name: 'CaseClosedError' });
    await expect(run({ invoiceId: c.invoiceId, standDown: 'return' })).resolves.toEqual({ outcome: 'closed', status: 'closed' });
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([]);
  });

  it('refuses a standDown it does not know, as a wiring mistake', async () => {
    await expect(handlers.notice({ invoiceId: 'in_unknown', standDown: 'throw' })).rejects.toMatchObject({ name: 'InvalidInputError' });
  });
});

describe('an execution started under the earlier definition, run by these stage functions', () => {
  let engine: Engine | undefined;
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  it('polls a paused stage through its CasePausedError retrier, hourly in policy time, and carries on when resumed', async () => {
    // A policy day of 2.4 s: an hour is 100 ms, where a fault's backoff would be the 20 ms floor.
    engine = await startEngine(t, definitionBeforeStandDown(), { dayMs: 2400 });
    const c = await openCaseQuietly(t, 'Paused Before Upgrade');
    await pauseCase(operator(), c);

    const execution = engine.start(c.invoiceId);
    const polls = () => engine!.tasks.filter((task) => task.state === 'Notice1' && task.error?.name === 'CasePausedError').length;
    await waitFor(async () => polls() >= 2, 5_000, 'Notice1 to look again while paused');
    const before = polls();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(polls() - before).toBeGreaterThanOrEqual(2);
    expect(polls() - before).toBeLessThanOrEqual(15);
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([]);

    await resumeCase(operator(), (await t.runtime.store.getCase(c.invoiceId))!);
    await waitFor(async () => (await subjectsTo(t.runtime, c.customerEmail!)).includes(SUBJECTS.notice1), 5_000, 'notice 1 after the resume');
    await waitFor(async () => engine!.statesOf(execution).includes('WaitBeforeRetry1'), 5_000, 'the wait before Retry1');
    expect(execution.status).toBe('RUNNING');
    expect(engine.statesOf(execution)).toEqual(['Notice1', 'WaitBeforeRetry1']);
  });
});

describe("the local engine's clock for a paused stage", () => {
  /** A stage that finds the case paused `times` times, looping through a `<stage>Paused` Wait as the definition does. */
  async function pollFor(dayMs: number, times: number): Promise<number> {
    let runs = 0;
    const definition: StateMachineDefinition = {
      Comment: 'a paused stage',
      StartAt: 'Notice1',
      TimeoutSeconds: 60,
      States: {
        Notice1: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:send-notice', ResultPath: '$.notice', Next: 'Notice1StoodDown' },
        Notice1StoodDown: { Type: 'Choice', Choices: [{ Variable: '$.notice.outcome', StringEquals: 'paused', Next: 'Notice1Paused' }], Default: 'Done' },
        Notice1Paused: { Type: 'Wait', Seconds: PAUSE_POLL_SECONDS, Next: 'Notice1' },
        Done: { Type: 'Succeed' },
      },
    };
    const engine = await startLocalStepFunctions({
      definition,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:clock',
      handlers: { 'arn:aws:lambda:us-east-1:000000000000:function:send-notice': async () => ({ outcome: ++runs <= times ? 'paused' : 'sent' }) },
      dayMs,
    });
    try {
      const started = performance.now();
      await engine.resume('in_clock', { invoiceId: 'in_clock' }, 'Notice1').done;
      return performance.now() - started;
    } finally {
      await engine.close();
    }
  }

  it('waits an hour of a policy day in <stage>Paused, as the earlier retrier did, and never less than 20 ms', async () => {
    // 2.4 s a day: an hour is 100 ms, so 5 looks take half a second.
    expect(await pollFor(2400, 5)).toBeGreaterThanOrEqual(5 * 100 - 10);
    // 50 ms a day (the shortest `npm start` allows) would be 2 ms an hour: a spin in the one shared thread.
    expect(await pollFor(50, 5)).toBeGreaterThanOrEqual(5 * 20 - 5);
  });
});
