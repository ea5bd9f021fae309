// A stage that fails for good, then the operator's redrive once the cause is fixed: the whole local
// workflow (the Stripe sandbox, dynalite, SES v2, the local Step Functions API) with the real handlers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSfnClient } from '#shared/adapters/aws-clients.ts';
import { StepFunctionsWorkflow } from '#shared/adapters/sfn-workflow.ts';
import { redriveByOperator } from '#shared/dunning/operator.ts';
import { LOCAL_STATE_MACHINE_ARN } from '#local/runtime.ts';
import { closedCase, renew, startTestRuntime, subjectsTo, subscribeWithDecliningCard, SUBJECTS, waitFor, type TestRuntime } from '../fixtures/scenario.ts';
import { realDeps } from '../fixtures/stage-deps.ts';

let t: TestRuntime;
beforeAll(async () => {
  // Faults on purpose: executions fail on purpose (Stripe down), to be redriven.
  t = await startTestRuntime({ dayMs: 100, expectAlarms: ['ExecutionsFailed', 'RetryPaymentErrors', 'NeedsAttention'] });
});
afterAll(async () => {
  await t?.close();
});

const operator = () => ({ ...realDeps(t), workflow: new StepFunctionsWorkflow(createSfnClient({ endpoint: t.runtime.urls.stepFunctions }), LOCAL_STATE_MACHINE_ARN), livemode: false });
const PAY = /^\/v1\/invoices\/[^/]+\/pay$/;

/** A subscriber whose Retry1 fails for good: Stripe answers 500 to every charge from Notice1 on. */
async function failingAtRetry1(name: string) {
  const subscriber = await subscribeWithDecliningCard(t.stripe, name);
  t.onStage(subscriber.customerId, ({ state, error }) => {
    if (state === 'Notice1' && !error) t.runtime.sandbox!.injectFault({ method: 'POST', path: PAY, status: 500, count: 1000 });
  });
  await renew(t.stripe, subscriber);
  const flagged = await closedCase(t.runtime, subscriber.subscriptionId);
  t.runtime.sandbox!.clearFaults();
  return { subscriber, flagged };
}

describe('a stage that fails for good', () => {
  it('fails the execution at that stage and flags the case; after the cause is fixed, redrive re-runs that stage and the case goes on to its normal end (emails in order, no duplicate notice)', async () => {
    const { subscriber, flagged } = await failingAtRetry1('Redriven After Outage');
    const execution = t.runtime.stepFunctions.executions.get(flagged.executionArn!)!;
    expect(flagged.status).toBe('needs_attention');
    expect(execution).toMatchObject({ status: 'FAILED', lastState: { name: 'Retry1' } });

    const result = await redriveByOperator(operator(), flagged.executionName);
    const ended = await waitFor(async () => {
      const c = await t.runtime.store.getCase(flagged.invoiceId);
      return c && c.status !== 'open' ? c : undefined;
    }, 30_000, 'the redriven case to end');

    expect(result).toEqual({ outcome: 'redriven', invoiceId: flagged.invoiceId, state: 'Retry1' });
    expect(execution).toMatchObject({ executionArn: flagged.executionArn, redriveCount: 1 });
    expect(ended.status).toBe('terminated');
    await waitFor(async () => (await subjectsTo(t.runtime, subscriber.email)).includes(SUBJECTS.ended), 5000, 'the termination email');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
    const timeline = (await t.runtime.store.listTimeline(flagged.invoiceId)).map((e) => `${e.type}${e.stage ? `:${e.stage}` : ''}`);
    expect(timeline.indexOf('flagged:Retry1')).toBeLessThan(timeline.indexOf('redriven:Operator'));
    expect(timeline.filter((e) => e === 'notice_sent:Notice1')).toHaveLength(1);
    // The case closes inside Terminate; the execution reaches Terminated just after.
    await execution.done;
    expect(execution.status).toBe('SUCCEEDED');
  });

  it('is not redriven once the customer has paid the flagged case: the paid case is never reopened', async () => {
    const { flagged } = await failingAtRetry1('Pays Before Redrive');
    await t.stripe.invoices.pay(flagged.invoiceId, { payment_method: 'pm_card_visa' });
    await waitFor(async () => (await t.runtime.store.getCase(flagged.invoiceId))?.status === 'recovered', 5000, 'the case to recover');

    const result = await redriveByOperator(operator(), flagged.executionName);

    expect(result).toEqual({ outcome: 'case_closed', invoiceId: flagged.invoiceId, status: 'recovered' });
    expect(t.runtime.stepFunctions.executions.get(flagged.executionArn!)).toMatchObject({ status: 'FAILED', redriveCount: 0 });
  });
});
