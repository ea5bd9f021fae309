// The flagger of failed executions and RedriveExecution, against the local Step Functions API running
// the product's definition (stage handlers that succeed, or fail as the test says) and dynalite.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSfnClient } from '#shared/adapters/aws-clients.ts';
import { DynamoCaseStore } from '#shared/adapters/dynamodb/case-store.ts';
import { executionArnFor, StepFunctionsWorkflow } from '#shared/adapters/sfn-workflow.ts';
import { ExecutionNotFoundError, ExecutionNotRedrivableError, StripeRequestError } from '#shared/domain/errors.ts';
import { systemClock } from '#shared/domain/ports.ts';
import { silentLog } from '#shared/dunning/deps.ts';
import { flagFailedExecution } from '#shared/dunning/failed-execution.ts';
import { redriveByOperator } from '#shared/dunning/operator.ts';
import { buildDefinition } from '#shared/workflow/definition.ts';
import { startLocalStepFunctions, statusChangeEvent, type LocalExecution, type LocalStepFunctions } from '#local/stepfunctions.ts';
import { recordingMetrics } from '../fixtures/metrics.ts';
import { defaultPolicy } from '../fixtures/policies.ts';
import { aCase, startLocalTable, TABLE_NAME, type LocalTable } from './helpers.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:dunning-flag-test';
const ARNS = { sendNotice: 'arn:aws:lambda:us-east-1:000000000000:function:send-notice', retryPayment: 'arn:aws:lambda:us-east-1:000000000000:function:retry-payment', closeCase: 'arn:aws:lambda:us-east-1:000000000000:function:close-case' };

let table: LocalTable;
let store: DynamoCaseStore;
let sfn: LocalStepFunctions;
let workflow: StepFunctionsWorkflow;
/** Invoice ids whose retry stage fails (a permanent error: the execution fails at once). */
const failing = new Set<string>();
/** Invoice ids whose retry stage waits for the promise before it acts. */
const held = new Map<string, Promise<void>>();
/** Every stage run, as `invoiceId:stage`. */
const runs: string[] = [];

beforeAll(async () => {
  table = await startLocalTable();
  store = new DynamoCaseStore(table.documentClient, TABLE_NAME);
  sfn = await startLocalStepFunctions({
    definition: buildDefinition(defaultPolicy(), ARNS),
    stateMachineArn: STATE_MACHINE_ARN,
    dayMs: 2,
    retryIntervalMs: 1,
    handlers: {
      [ARNS.sendNotice]: async (input) => {
        const { invoiceId, stage } = input as { invoiceId: string; stage: string };
        runs.push(`${invoiceId}:${stage}`);
        // The next step is due at once: the Wait after a stage waits until the moment it gives.
        return { outcome: 'sent', waitUntil: new Date().toISOString() };
      },
      [ARNS.retryPayment]: async (input) => {
        const { invoiceId, stage } = input as { invoiceId: string; stage: string };
        runs.push(`${invoiceId}:${stage}`);
        await held.get(invoiceId);
        if (failing.has(invoiceId)) throw new StripeRequestError(`No such customer (${stage})`);
        return { outcome: 'declined', code: 'card_declined', waitUntil: new Date().toISOString() };
      },
      [ARNS.closeCase]: async (input) => ({ status: (input as { action: string }).action }),
    },
  });
  workflow = new StepFunctionsWorkflow(createSfnClient({ endpoint: sfn.endpoint }), STATE_MACHINE_ARN);
});
afterAll(async () => {
  await sfn?.close();
  await table?.close();
});
beforeEach(() => {
  failing.clear();
});

const deps = (metrics = recordingMetrics()) => ({ store, workflow, clock: systemClock, log: silentLog, metrics });

/** A case whose execution fails for good at Retry1; resolves with the ended execution. */
async function failedExecution(): Promise<{ invoiceId: string; execution: LocalExecution }> {
  const c = aCase();
  await store.createCase({ ...c, executionName: c.invoiceId });
  failing.add(c.invoiceId);
  const { executionArn } = await workflow.start(c.invoiceId, { invoiceId: c.invoiceId });
  const execution = sfn.executions.get(executionArn)!;
  await execution.done;
  return { invoiceId: c.invoiceId, execution };
}

async function ended(executionArn: string): Promise<LocalExecution> {
  const execution = sfn.executions.get(executionArn)!;
  await execution.done;
  return execution;
}

describe('flagFailedExecution', () => {
  it('flags the open case of a failed execution once, with the failed state, error and cause, and counts NeedsAttention once', async () => {
    const { invoiceId, execution } = await failedExecution();
    const event = statusChangeEvent(execution, STATE_MACHINE_ARN);
    const metrics = recordingMetrics();

    const first = await flagFailedExecution(deps(metrics), event);
    const again = await flagFailedExecution(deps(metrics), structuredClone(event));

    expect(first).toEqual({ outcome: 'flagged', invoiceId, state: 'Retry1' });
    expect(again).toMatchObject({ outcome: 'ignored', reason: 'not_open' });
    expect(metrics.names()).toEqual(['NeedsAttention']);
    expect(await store.getCase(invoiceId)).toMatchObject({ status: 'needs_attention', error: { name: 'StripeRequestError', message: 'No such customer (Retry1)' } });
    const flagged = (await store.listTimeline(invoiceId)).filter((e) => e.type === 'flagged');
    expect(flagged).toEqual([expect.objectContaining({ stage: 'Retry1', detail: 'Retry1 failed: StripeRequestError: No such customer (Retry1)' })]);
  });

  it('never flags a case that was recovered, terminated or closed meanwhile', async () => {
    for (const status of ['recovered', 'terminated', 'closed'] as const) {
      const { invoiceId, execution } = await failedExecution();
      await store.closeCase(invoiceId, status, { now: new Date().toISOString() });
      const metrics = recordingMetrics();

      const result = await flagFailedExecution(deps(metrics), statusChangeEvent(execution, STATE_MACHINE_ARN));

      expect(result, status).toMatchObject({ outcome: 'ignored', reason: 'not_open' });
      expect((await store.getCase(invoiceId))?.status).toBe(status);
      expect(metrics.names()).toEqual([]);
    }
  });

  it('ignores a stale FAILED event of an execution redriven since, and flags its next failure', async () => {
    const { invoiceId, execution } = await failedExecution();
    const stale = statusChangeEvent(execution, STATE_MACHINE_ARN);
    await flagFailedExecution(deps(), stale);
    // The operator reopens and redrives; the stage fails again, once the test lets it.
    let release!: () => void;
    held.set(invoiceId, new Promise((resolve) => (release = resolve)));
    const redriven = await redriveByOperator({ ...deps(), livemode: false } as never, invoiceId);
    expect(redriven).toEqual({ outcome: 'redriven', invoiceId, state: 'Retry1' });
    expect(sfn.executions.get(execution.executionArn)).toMatchObject({ status: 'RUNNING', redriveCount: 1 });
    const duringRedrive = await flagFailedExecution(deps(), stale);
    release();
    const again = await ended(execution.executionArn);
    const afterRedrive = await flagFailedExecution(deps(), stale);
    const metrics = recordingMetrics();
    const second = await flagFailedExecution(deps(metrics), statusChangeEvent(again, STATE_MACHINE_ARN));

    expect(duringRedrive).toMatchObject({ outcome: 'ignored', reason: 'stale' });
    expect(afterRedrive).toMatchObject({ outcome: 'ignored', reason: 'stale' });
    expect(second).toEqual({ outcome: 'flagged', invoiceId, state: 'Retry1' });
    expect(metrics.names()).toEqual(['NeedsAttention']);
  });

  it('still flags when DescribeExecution lags and reads RUNNING at the same redrive count (eventual consistency)', async () => {
    const { invoiceId, execution } = await failedExecution();
    // The one fault the local API cannot produce: a read that has not caught up with the failure.
    const lagging = Object.assign(Object.create(workflow) as StepFunctionsWorkflow, {
      describe: async (arn: string) => ({ ...(await workflow.describe(arn))!, status: 'RUNNING' as const }),
    });

    const result = await flagFailedExecution({ ...deps(), workflow: lagging }, statusChangeEvent(execution, STATE_MACHINE_ARN));

    expect(result).toEqual({ outcome: 'flagged', invoiceId, state: 'Retry1' });
  });

  it('ignores executions of other state machines, and ends that are not failures', async () => {
    const { invoiceId, execution } = await failedExecution();
    const event = statusChangeEvent(execution, STATE_MACHINE_ARN);
    const otherMachine = 'arn:aws:states:us-east-1:000000000000:stateMachine:someone-else';
    const other = structuredClone(event);
    other.detail.stateMachineArn = otherMachine;
    other.detail.executionArn = executionArnFor(otherMachine, execution.name);
    const aborted = structuredClone(event);
    aborted.detail.status = 'ABORTED';

    expect(await flagFailedExecution(deps(), other)).toEqual({ outcome: 'ignored', reason: 'other_state_machine' });
    expect(await flagFailedExecution(deps(), aborted)).toEqual({ outcome: 'ignored', reason: 'status' });
    expect((await store.getCase(invoiceId))?.status).toBe('open');
  });

  it('refuses an event that is not a Step Functions status change', async () => {
    await expect(flagFailedExecution(deps(), { source: 'aws.states', detail: {} })).rejects.toThrow(/not a Step Functions status change/);
  });
});

describe('RedriveExecution on the local Step Functions API', () => {
  it('runs the same execution again from the state that failed, with that state\'s input, and nothing before it', async () => {
    const { invoiceId, execution } = await failedExecution();
    failing.delete(invoiceId);
    const before = runs.filter((r) => r.startsWith(invoiceId));

    await workflow.redrive(execution.executionArn);
    const redriven = await ended(execution.executionArn);

    expect(before).toEqual([`${invoiceId}:Notice1`, `${invoiceId}:Retry1`]);
    expect(redriven).toMatchObject({ executionArn: execution.executionArn, status: 'SUCCEEDED', redriveCount: 1 });
    expect(runs.filter((r) => r.startsWith(invoiceId))).toEqual([
      `${invoiceId}:Notice1`, `${invoiceId}:Retry1`, `${invoiceId}:Retry1`, `${invoiceId}:Notice2`, `${invoiceId}:Retry2`, `${invoiceId}:Notice3`, `${invoiceId}:Retry3`,
    ]);
    expect(await workflow.describe(execution.executionArn)).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, redrivable: false });
  });

  it('refuses a running or succeeded execution (ExecutionNotRedrivable) and an unknown one (ExecutionDoesNotExist)', async () => {
    const c = aCase();
    const { executionArn } = await workflow.start(c.invoiceId, { invoiceId: c.invoiceId });

    await expect(workflow.redrive(executionArn)).rejects.toThrow(ExecutionNotRedrivableError);
    await ended(executionArn);
    await expect(workflow.redrive(executionArn)).rejects.toThrow(ExecutionNotRedrivableError);
    await expect(workflow.redrive(executionArnFor(STATE_MACHINE_ARN, 'in_nosuchexecution'))).rejects.toThrow(ExecutionNotFoundError);
    expect(await workflow.describe(executionArnFor(STATE_MACHINE_ARN, 'in_nosuchexecution'))).toBeUndefined();
  });

  it('reports a failed execution as redrivable, and the last state it entered from its history', async () => {
    const { execution } = await failedExecution();

    expect(await workflow.describe(execution.executionArn)).toMatchObject({ status: 'FAILED', redriveCount: 0, redrivable: true, error: 'StripeRequestError' });
    expect(await workflow.lastState(execution.executionArn)).toBe('Retry1');
  });
});

describe('redriveByOperator on an execution started before redrive', () => {
  it('refuses one that ended in the old NeedsAttention Fail state, and leaves its case flagged', async () => {
    const legacy = await startLocalStepFunctions({
      definition: { Comment: 'before redrive', StartAt: 'NeedsAttention', TimeoutSeconds: 60, States: { NeedsAttention: { Type: 'Fail', Error: 'CaseNeedsAttention' } } },
      stateMachineArn: STATE_MACHINE_ARN,
      dayMs: 2,
      handlers: {},
    });
    try {
      const old = new StepFunctionsWorkflow(createSfnClient({ endpoint: legacy.endpoint }), STATE_MACHINE_ARN);
      const c = aCase({ status: 'needs_attention' });
      await store.createCase({ ...c, executionName: c.invoiceId });
      const { executionArn } = await old.start(c.invoiceId, { invoiceId: c.invoiceId });
      await legacy.executions.get(executionArn)!.done;

      const result = await redriveByOperator({ ...deps(), workflow: old, livemode: false } as never, c.invoiceId);

      expect(result).toMatchObject({ outcome: 'refused', invoiceId: c.invoiceId, reason: expect.stringMatching(/before redrive was supported/) });
      expect((await store.getCase(c.invoiceId))?.status).toBe('needs_attention');
      expect(legacy.executions.get(executionArn)).toMatchObject({ status: 'FAILED', redriveCount: 0 });
    } finally {
      await legacy.close();
    }
  });
});
