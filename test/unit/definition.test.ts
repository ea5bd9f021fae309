import { describe, expect, it } from 'vitest';
import { PAUSE_CAP_DAYS } from '#shared/dunning/pause.ts';
import {
  buildDefinition,
  CHOOSE_POLICY,
  SECONDS_PER_DAY,
  STATE,
  taskStates,
  waitStates,
  type StateMachineDefinition,
} from '#shared/workflow/definition.ts';
import { parsePolicySet } from '#shared/policy/load.ts';
import { singlePolicySet } from '#shared/policy/segments.ts';
import { annualPolicyFile, defaultPolicy, shortPolicy } from '../fixtures/policies.ts';

const ARNS = { sendNotice: 'arn:notice', retryPayment: 'arn:retry', closeCase: 'arn:close' };

/** Follows Next/Default from StartAt (or `from`), i.e. the path of a customer who never pays. */
function happyPath(definition: StateMachineDefinition, from = definition.StartAt): string[] {
  const path: string[] = [];
  let name: string | undefined = from;
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
      'Notice1', 'Retry1', 'Notice2', 'Retry2', 'Notice3', 'Retry3', 'Terminate', 'RecoverCase',
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

    for (const { name } of taskStates(definition)) {
      const retry = definition.States[name]!.Retry as Array<Record<string, unknown>>;
      const paused = retry.findIndex((r) => (r.ErrorEquals as string[]).includes('CasePausedError'));
      expect(retry[paused], name).toEqual({ ErrorEquals: ['CasePausedError'], IntervalSeconds: 3600, BackoffRate: 1, MaxAttempts: (PAUSE_CAP_DAYS + 1) * 24 });
      expect(paused, name).toBeLessThan(retry.findIndex((r) => (r.ErrorEquals as string[]).includes('States.ALL')));
    }
  });

  it('catches only a closed case, so any other failure after the retries fails the execution at that stage (where a redrive resumes)', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);

    for (const { name } of taskStates(definition)) {
      expect(definition.States[name]!.Catch, name).toEqual([{ ErrorEquals: ['CaseClosedError'], ResultPath: null, Next: STATE.caseClosed }]);
    }
    expect(Object.keys(definition.States)).not.toContain('FlagCase');
    expect(Object.keys(definition.States)).not.toContain('NeedsAttention');
    expect(Object.values(definition.States).filter((state) => state.Type === 'Fail')).toEqual([]);
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

describe('buildDefinition with several policies', () => {
  const definition = buildDefinition(parsePolicySet(annualPolicyFile()), ARNS);

  it('starts by choosing the policy from $.policy, default when absent or unknown', () => {
    expect(definition.StartAt).toBe(CHOOSE_POLICY);
    expect(definition.States[CHOOSE_POLICY]).toEqual({
      Type: 'Choice',
      Comment: expect.any(String),
      Choices: [
        {
          And: [
            { Variable: '$.policy', IsPresent: true },
            { Variable: '$.policy', StringEquals: 'annual' },
          ],
          Next: 'annual.Notice1',
        },
      ],
      Default: 'Notice1',
    });
  });

  it("keeps the default policy's plain state names and prefixes the others' with their name", () => {
    expect(happyPath(definition, 'Notice1')).toEqual([
      'Notice1', 'WaitBeforeRetry1', 'Retry1', 'Retry1Paid', 'Notice2', 'WaitBeforeRetry2', 'Retry2', 'Retry2Paid',
      'Notice3', 'WaitBeforeRetry3', 'Retry3', 'Retry3Paid', 'Terminate', 'Terminated',
    ]);
    expect(happyPath(definition, 'annual.Notice1')).toEqual([
      'annual.Notice1', 'annual.WaitBeforeRetry1', 'annual.Retry1', 'annual.Retry1Paid', 'annual.Notice2',
      'annual.WaitBeforeRetry2', 'annual.Retry2', 'annual.Retry2Paid', 'annual.Notice3', 'annual.WaitBeforeRetry3',
      'annual.Retry3', 'annual.Retry3Paid', 'annual.Terminate', 'Terminated',
    ]);
    expect(definition.States['annual.WaitBeforeRetry3']).toMatchObject({ Seconds: 10 * SECONDS_PER_DAY });
    expect(definition.States['annual.Retry1Paid']).toMatchObject({ Choices: [{ Next: 'annual.RecoverCase' }] });
    expect(definition.States['annual.RecoverCase']).toMatchObject({ Next: STATE.recovered });
  });

  it('tells every task its policy, and keeps the stage id plain', () => {
    expect(definition.States['annual.Notice2']).toMatchObject({
      Parameters: { action: 'notice', 'invoiceId.$': '$.invoiceId', stage: 'Notice2', policy: 'annual' },
    });
    expect(definition.States['annual.Terminate']).toMatchObject({ Parameters: { action: 'terminate', policy: 'annual' } });
    expect(definition.States.Retry1).toMatchObject({ Parameters: { action: 'retry', stage: 'Retry1', policy: 'default' } });
    expect(definition.States.RecoverCase).toMatchObject({ Parameters: { action: 'recover', policy: 'default' } });
  });

  it('shares the terminal states, and catches a closed case into CaseClosed from every policy', () => {
    const names = Object.keys(definition.States);
    for (const shared of [STATE.recovered, STATE.terminated, STATE.caseClosed]) {
      expect(names.filter((n) => n.endsWith(shared))).toEqual([shared]);
    }
    expect(definition.States['annual.Retry2']!.Catch).toEqual([{ ErrorEquals: ['CaseClosedError'], ResultPath: null, Next: STATE.caseClosed }]);
  });

  it('times out after the longest policy, and keeps every state name within Step Functions\' 80 characters', () => {
    expect(definition.TimeoutSeconds).toBe((30 + 7 + PAUSE_CAP_DAYS) * SECONDS_PER_DAY);
    for (const name of Object.keys(definition.States)) expect(name.length).toBeLessThanOrEqual(80);
  });

  it('lists every wait for the local engine to compress, by its prefixed name', () => {
    expect(waitStates(definition)).toContainEqual({ name: 'annual.WaitBeforeRetry1', days: 10 });
    expect(waitStates(definition)).toContainEqual({ name: 'WaitBeforeRetry1', days: 3 });
  });

  it('generates exactly the single-policy definition from a file of one policy', () => {
    const single = buildDefinition(singlePolicySet(defaultPolicy()), ARNS);

    expect(single).toEqual(buildDefinition(defaultPolicy(), ARNS));
    expect(single.StartAt).toBe('Notice1');
    expect(single.States[CHOOSE_POLICY]).toBeUndefined();
    for (const { name } of taskStates(single)) expect(single.States[name]!.Parameters, name).not.toHaveProperty('policy');
  });
});
