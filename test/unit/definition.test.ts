import { describe, expect, it } from 'vitest';
import { PAUSE_CAP_DAYS, PAUSE_POLL_SECONDS } from '#shared/domain/pause-limits.ts';
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
      'Notice1StoodDown',
      'WaitBeforeRetry1',
      'Retry1',
      'Retry1Paid',
      'Notice2',
      'Notice2StoodDown',
      'WaitBeforeRetry2',
      'Retry2',
      'Retry2Paid',
      'Notice3',
      'Notice3StoodDown',
      'WaitBeforeRetry3',
      'Retry3',
      'Retry3Paid',
      'Terminate',
      'TerminateStoodDown',
      'Terminated',
    ]);
  });

  it('waits until the moment the stage before it gives, never across a same-day retry and notice', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);
    const waits = Object.entries(definition.States).filter(([name, state]) => state.Type === 'Wait' && name.startsWith('WaitBefore'));

    // The stage before each Wait returns when the next step is due (a retry when the retry rules put it).
    expect(Object.fromEntries(waits)).toEqual({
      WaitBeforeRetry1: expect.objectContaining({ TimestampPath: '$.notice.waitUntil', Next: 'Retry1' }),
      WaitBeforeRetry2: expect.objectContaining({ TimestampPath: '$.notice.waitUntil', Next: 'Retry2' }),
      WaitBeforeRetry3: expect.objectContaining({ TimestampPath: '$.notice.waitUntil', Next: 'Retry3' }),
    });
    // Nothing for the local engine to compress but the paused polls: the stages give compressed times.
    expect(waitStates(definition).filter((wait) => wait.days >= 1)).toEqual([]);
  });

  it('reads a wait after a retry from the retry, and after a notice from the notice', () => {
    const policy = defaultPolicy();
    // Retry2 on its own day between Notice2 (day 3) and Notice3 (day 7).
    policy.stages = policy.stages.map((stage) => (stage.id === 'Retry2' ? { ...stage, day: 5 } : stage));

    const definition = buildDefinition(policy, ARNS);

    expect(definition.States.WaitBeforeRetry2).toMatchObject({ TimestampPath: '$.notice.waitUntil', Next: 'Retry2' });
    expect(definition.States.WaitBeforeNotice3).toMatchObject({ TimestampPath: '$.retry.waitUntil', Next: 'Notice3' });
  });

  it('loops a retry the rules put later through its own Wait, off the path of a retry that runs when planned', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);

    expect(definition.States.Retry1Later).toEqual({
      Type: 'Wait',
      Comment: expect.any(String),
      TimestampPath: '$.retry.waitUntil',
      Next: 'Retry1',
    });
    expect(definition.States.Retry1Paid!.Choices).toContainEqual({
      And: [{ Variable: '$.retry.outcome', IsPresent: true }, { Variable: '$.retry.outcome', StringEquals: 'later' }],
      Next: 'Retry1Later',
    });
    // A declined retry takes as many transitions as before the retry rules: Task, Choice, on.
    expect(happyPath(definition, 'Notice1')).toHaveLength(18);
  });

  it('sends a paid retry to RecoverCase, one that stood down out of the sequence, and a declined one on to the next stage', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);

    expect(definition.States.Retry2Paid).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.retry.outcome', StringEquals: 'paid', Next: STATE.recoverCase },
        { And: [{ Variable: '$.retry.outcome', IsPresent: true }, { Variable: '$.retry.outcome', StringEquals: 'closed' }], Next: STATE.caseClosed },
        { And: [{ Variable: '$.retry.outcome', IsPresent: true }, { Variable: '$.retry.outcome', StringEquals: 'paused' }], Next: 'Retry2Paused' },
        { And: [{ Variable: '$.retry.outcome', IsPresent: true }, { Variable: '$.retry.outcome', StringEquals: 'later' }], Next: 'Retry2Later' },
      ],
      Default: 'Notice3',
    });
  });

  it('follows a notice stage and Terminate with a Choice on their result: closed ends the execution, paused waits', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);

    expect(definition.States.Notice2).toMatchObject({ ResultPath: '$.notice', Next: 'Notice2StoodDown' });
    expect(definition.States.Notice2StoodDown).toEqual({
      Type: 'Choice',
      Choices: [
        { And: [{ Variable: '$.notice.outcome', IsPresent: true }, { Variable: '$.notice.outcome', StringEquals: 'closed' }], Next: STATE.caseClosed },
        { And: [{ Variable: '$.notice.outcome', IsPresent: true }, { Variable: '$.notice.outcome', StringEquals: 'paused' }], Next: 'Notice2Paused' },
        // Retry1, just before it on day 3, may have run on an earlier day: then Notice2 waits for its own.
        { And: [{ Variable: '$.notice.outcome', IsPresent: true }, { Variable: '$.notice.outcome', StringEquals: 'early' }], Next: 'Notice2Later' },
      ],
      Default: 'WaitBeforeRetry2',
    });
    expect(definition.States.Terminate).toMatchObject({ ResultPath: '$.terminate', Next: 'TerminateStoodDown' });
    expect(definition.States.TerminateStoodDown).toMatchObject({
      Type: 'Choice',
      Choices: [{ Next: STATE.caseClosed }, { Next: 'TerminatePaused' }],
      Default: STATE.terminated,
    });
  });

  it('runs a paused stage again after a policy hour, from a Wait named after it, for every stage but RecoverCase', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);
    const stages = taskStates(definition).map((t) => t.name).filter((name) => name !== STATE.recoverCase);

    for (const stage of stages) {
      expect(definition.States[`${stage}Paused`], stage).toEqual({ Type: 'Wait', Comment: expect.any(String), Seconds: PAUSE_POLL_SECONDS, Next: stage });
    }
    const pauses = waitStates(definition).filter((wait) => wait.days < 1);
    expect(pauses.map((wait) => wait.name).sort()).toEqual(stages.map((stage) => `${stage}Paused`).sort());
    expect(pauses.every((wait) => wait.days === 1 / 24)).toBe(true);
    // No attempt limit: the loop lasts as long as the pause, which the execution's timeout outlasts.
    expect(definition.TimeoutSeconds).toBe((14 + 7 + PAUSE_CAP_DAYS) * SECONDS_PER_DAY);
  });

  it('tells every stage to return a stand-down rather than throw, and gives RecoverCase the paid retry\'s result', () => {
    const definition = buildDefinition(defaultPolicy(), ARNS);

    for (const { name } of taskStates(definition)) {
      const parameters = definition.States[name]!.Parameters as Record<string, unknown>;
      if (name === STATE.recoverCase) expect(parameters, name).not.toHaveProperty('standDown');
      else expect(parameters.standDown, name).toBe('return');
    }
    expect(definition.States.RecoverCase).toMatchObject({
      Parameters: { action: 'recover', 'invoiceId.$': '$.invoiceId', 'retry.$': '$.retry' },
      Next: STATE.recovered,
    });
  });

  it('refuses a policy whose stage id is a generated state name', () => {
    const policy = defaultPolicy();
    policy.stages.splice(1, 0, { id: 'Notice1Paused', type: 'notice', day: 0, notice: { message: 'payment_failed' } });

    expect(() => buildDefinition(policy, ARNS)).toThrow(/two states would be named "Notice1Paused"/);
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

  it('waits out a rate limit (our budget, Stripe’s 429, SES’s throttle) patiently, for hours, with capped backoff and full jitter', () => {
    const retry = buildDefinition(defaultPolicy(), ARNS).States.Retry1!.Retry as Array<Record<string, unknown>>;

    expect(retry[0]).toEqual({
      ErrorEquals: ['OverBudgetError', 'StripeRateLimitedError', 'EmailThrottledError'],
      IntervalSeconds: 2,
      BackoffRate: 2,
      MaxDelaySeconds: 60,
      MaxAttempts: 600,
      JitterStrategy: 'FULL',
    });
    // At the cap, 600 attempts are hours of waiting: a burst drains long before a case is flagged.
    expect(((retry[0]!.MaxAttempts as number) * (retry[0]!.MaxDelaySeconds as number)) / 3600).toBeGreaterThanOrEqual(8);
  });

  it('retries transient errors with exponential backoff and full jitter, and never retries a closed case', () => {
    const retry = buildDefinition(defaultPolicy(), ARNS).States.Retry1!.Retry as Array<Record<string, unknown>>;

    expect(retry[1]).toMatchObject({
      ErrorEquals: expect.arrayContaining(['StripeUnavailableError', 'StoreUnavailableError', 'Lambda.TooManyRequestsException']),
      BackoffRate: 2,
      JitterStrategy: 'FULL',
      MaxDelaySeconds: expect.any(Number),
    });
    expect(retry[2]).toMatchObject({ ErrorEquals: expect.arrayContaining(['CaseClosedError']), MaxAttempts: 0 });
  });

  it('still retries CasePausedError every hour for as long as a pause can last, before the catch-all, for stage functions of an earlier version', () => {
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
      'Notice1', 'Notice1StoodDown', 'WaitBeforeRetry1', 'Retry1', 'Retry1Paid', 'Notice2', 'Notice2StoodDown', 'WaitBeforeRetry2', 'Retry2',
      'Retry2Paid', 'Terminate', 'TerminateStoodDown', 'Terminated',
    ]);
    expect(definition.TimeoutSeconds).toBe((5 + 7 + PAUSE_CAP_DAYS) * SECONDS_PER_DAY);
  });

  it('waits before the first stage and before terminating when the policy says so', () => {
    const policy = defaultPolicy();
    policy.stages[0]!.day = 1;
    policy.end.day = 21;

    const definition = buildDefinition(policy, ARNS);

    expect(definition.StartAt).toBe('WaitBeforeNotice1');
    // Nothing runs before the first Wait: it counts from the execution's start.
    expect(definition.States.WaitBeforeNotice1).toMatchObject({ Seconds: SECONDS_PER_DAY, Next: 'Notice1' });
    // Retry3 says when the end is due.
    expect(definition.States.WaitBeforeTerminate).toMatchObject({ TimestampPath: '$.retry.waitUntil', Next: 'Terminate' });
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
      'Notice1', 'Notice1StoodDown', 'WaitBeforeRetry1', 'Retry1', 'Retry1Paid', 'Notice2', 'Notice2StoodDown', 'WaitBeforeRetry2', 'Retry2',
      'Retry2Paid', 'Notice3', 'Notice3StoodDown', 'WaitBeforeRetry3', 'Retry3', 'Retry3Paid', 'Terminate', 'TerminateStoodDown', 'Terminated',
    ]);
    expect(happyPath(definition, 'annual.Notice1')).toEqual([
      'annual.Notice1', 'annual.Notice1StoodDown', 'annual.WaitBeforeRetry1', 'annual.Retry1', 'annual.Retry1Paid', 'annual.Notice2',
      'annual.Notice2StoodDown', 'annual.WaitBeforeRetry2', 'annual.Retry2', 'annual.Retry2Paid', 'annual.Notice3', 'annual.Notice3StoodDown',
      'annual.WaitBeforeRetry3', 'annual.Retry3', 'annual.Retry3Paid', 'annual.Terminate', 'annual.TerminateStoodDown', 'Terminated',
    ]);
    expect(definition.States['annual.WaitBeforeRetry3']).toMatchObject({ TimestampPath: '$.notice.waitUntil', Next: 'annual.Retry3' });
    expect(definition.States['annual.Retry1Paid']!.Choices).toContainEqual(expect.objectContaining({ Next: 'annual.RecoverCase' }));
    expect(definition.States['annual.RecoverCase']).toMatchObject({ Next: STATE.recovered });
  });

  it("prefixes the stand-down states with the policy's name, and loops a paused stage back to its own policy's state", () => {
    expect(definition.States['annual.Notice2Paused']).toMatchObject({ Type: 'Wait', Seconds: PAUSE_POLL_SECONDS, Next: 'annual.Notice2' });
    expect(definition.States['annual.Retry1Paused']).toMatchObject({ Type: 'Wait', Next: 'annual.Retry1' });
    expect(definition.States['annual.TerminatePaused']).toMatchObject({ Type: 'Wait', Next: 'annual.Terminate' });
    expect(definition.States['annual.Notice2StoodDown']).toMatchObject({
      Choices: [{ Next: STATE.caseClosed }, { Next: 'annual.Notice2Paused' }, { Next: 'annual.Notice2Later' }],
      Default: 'annual.WaitBeforeRetry2',
    });
    expect(definition.States['annual.Retry1Paid']).toMatchObject({
      Choices: [{ Next: 'annual.RecoverCase' }, { Next: STATE.caseClosed }, { Next: 'annual.Retry1Paused' }, { Next: 'annual.Retry1Later' }],
    });
    expect(definition.States['annual.TerminateStoodDown']).toMatchObject({ Default: STATE.terminated });
    expect(definition.States['annual.Retry2']).toMatchObject({ Parameters: { standDown: 'return', policy: 'annual' } });
    expect(definition.States['annual.RecoverCase']).toMatchObject({ Parameters: { 'retry.$': '$.retry', policy: 'annual' } });
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

  it('lists every wait of a fixed length for the local engine to compress, by its prefixed name', () => {
    expect(waitStates(definition)).toContainEqual({ name: 'annual.Retry1Paused', days: PAUSE_POLL_SECONDS / SECONDS_PER_DAY });
    expect(waitStates(definition).map((wait) => wait.name)).not.toContain('annual.WaitBeforeRetry1');
  });

  it('generates exactly the single-policy definition from a file of one policy', () => {
    const single = buildDefinition(singlePolicySet(defaultPolicy()), ARNS);

    expect(single).toEqual(buildDefinition(defaultPolicy(), ARNS));
    expect(single.StartAt).toBe('Notice1');
    expect(single.States[CHOOSE_POLICY]).toBeUndefined();
    for (const { name } of taskStates(single)) expect(single.States[name]!.Parameters, name).not.toHaveProperty('policy');
  });
});
