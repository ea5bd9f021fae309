import { describe, expect, it } from 'vitest';
import { PAUSE_CAP_DAYS } from '#shared/dunning/pause.ts';
import {
  buildDefinition,
  SECONDS_PER_DAY,
  STATE,
  taskStates,
  waitStates,
  type StateMachineDefinition,
} from '#shared/workflow/definition.ts';
import { defaultPolicy, shortPolicy } from '../fixtures/policies.ts';

const ARNS = { sendNotice: 'arn:notice', retryPayment: 'arn:retry', closeCase: 'arn:close' };

/** Follows Next/Default from StartAt, i.e. the path of a customer who never pays. */
function happyPath(definition: StateMachineDefinition): string[] {
  const path: string[] = [];
  let name: string | undefined = definition.StartAt;
  while (name) {
    path.push(name);
    const state: Record<string, unknown> = definition.States[name]!;
    name = (state.Next ?? state.Default) as string | undefined;
  }
  return path;
}

describe('buildDefinition', () => {
  it('orders the default policy as notice, wait, retry, notice… and ends by terminating', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);

    expect(happyPath(definition)).toEqual([
      'Notice1',
      'WaitBeforeRetry1',
      'Retry1',
      'Retry1Paid',
      'Notice2',
      'WaitBeforeRetry2',
      'Retry2',
      'Retry2Paid',
      'Notice3',
      'WaitBeforeRetry3',
      'Retry3',
      'Retry3Paid',
      'Terminate',
      'Terminated',
    ]);
  });

  it('waits the number of days between stages, never across a same-day retry and notice', () => {
    const waits = waitStates(buildDefinition(defaultPolicy(), ARNS));

    expect(waits).toEqual([
      { name: 'WaitBeforeRetry1', days: 3 },
      { name: 'WaitBeforeRetry2', days: 4 },
      { name: 'WaitBeforeRetry3', days: 7 },
    ]);
  });

  it('sends a paid retry to RecoverCase and a declined one on to the next stage', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);

    expect(definition.States.Retry2Paid).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.retry.outcome', StringEquals: 'paid', Next: STATE.recoverCase }],
      Default: 'Notice3',
    });
  });

  it('binds each task to its stage function with the stage it runs', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);

    expect(definition.States.Notice2).toMatchObject({
      Resource: 'arn:notice',
      Parameters: { action: 'notice', 'invoiceId.$': '$.invoiceId', stage: 'Notice2' },
    });
    expect(definition.States.Retry1).toMatchObject({ Resource: 'arn:retry', ResultPath: '$.retry' });
    expect(taskStates(definition).map((t) => t.name)).toEqual([
      'Notice1', 'Retry1', 'Notice2', 'Retry2', 'Notice3', 'Retry3', 'Terminate', 'RecoverCase', 'FlagCase',
    ]);
  });

  it('retries transient errors with exponential backoff and full jitter, and never retries a closed case', () => {
    const retry = buildDefinition(defaultPolicy(), ARNS).States.Retry1!.Retry as Array<Record<string, unknown>>;

    expect(retry[0]).toMatchObject({
      ErrorEquals: expect.arrayContaining(['StripeUnavailableError', 'EmailThrottledError', 'Lambda.TooManyRequestsException']),
      BackoffRate: 2,
      JitterStrategy: 'FULL',
      MaxDelaySeconds: expect.any(Number),
    });
    expect(retry[1]).toMatchObject({ ErrorEquals: expect.arrayContaining(['CaseClosedError']), MaxAttempts: 0 });
  });

  it('polls a paused case every hour for as long as a pause can last, before the catch-all', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);

    for (const { name } of taskStates(definition).filter((t) => t.name !== STATE.flagCase)) {
      const retry = definition.States[name]!.Retry as Array<Record<string, unknown>>;
      const paused = retry.findIndex((r) => (r.ErrorEquals as string[]).includes('CasePausedError'));
      expect(retry[paused], name).toEqual({ ErrorEquals: ['CasePausedError'], IntervalSeconds: 3600, BackoffRate: 1, MaxAttempts: (PAUSE_CAP_DAYS + 1) * 24 });
      expect(paused, name).toBeLessThan(retry.findIndex((r) => (r.ErrorEquals as string[]).includes('States.ALL')));
    }
  });

  it('catches a closed case quietly and flags every other failure instead of dying silently', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);

    for (const { name } of taskStates(definition).filter((t) => t.name !== STATE.flagCase)) {
      expect(definition.States[name]!.Catch, name).toEqual([
        { ErrorEquals: ['CaseClosedError'], ResultPath: null, Next: STATE.caseClosed },
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATE.flagCase },
      ]);
    }
    expect(definition.States.FlagCase).toMatchObject({ Next: STATE.needsAttention });
    expect(definition.States.NeedsAttention).toMatchObject({ Type: 'Fail' });
  });

  it('generates a different machine from a different policy, with no code change', () => {
    const definition = buildDefinition(shortPolicy(), ARNS);

    expect(happyPath(definition)).toEqual([
      'Notice1', 'WaitBeforeRetry1', 'Retry1', 'Retry1Paid', 'Notice2', 'WaitBeforeRetry2', 'Retry2', 'Retry2Paid', 'Terminate', 'Terminated',
    ]);
    expect(definition.TimeoutSeconds).toBe((5 + 7 + PAUSE_CAP_DAYS) * SECONDS_PER_DAY);
  });

  it('waits before the first stage and before terminating when the policy says so', () => {
    const policy = defaultPolicy();
    policy.stages[0]!.day = 1;
    policy.end.day = 21;

    const definition = buildDefinition(policy, ARNS);

    expect(definition.StartAt).toBe('WaitBeforeNotice1');
    expect(definition.States.WaitBeforeNotice1).toMatchObject({ Seconds: SECONDS_PER_DAY, Next: 'Notice1' });
    expect(definition.States.WaitBeforeTerminate).toMatchObject({ Seconds: 7 * SECONDS_PER_DAY, Next: 'Terminate' });
  });

  it('is plain JSON that survives a round trip', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);

    expect(JSON.parse(JSON.stringify(definition))).toEqual(definition);
  });
});
