import { describe, expect, it } from 'vitest';
import { buildDefinition, type StateMachineDefinition } from '#shared/workflow/definition.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import { definitionBeforeStandDown } from '../fixtures/earlier-definition.ts';
import { plansFor } from './paths.ts';
import { walkPath } from './transitions.ts';

const ARNS = { sendNotice: 'arn:notice', retryPayment: 'arn:retry', closeCase: 'arn:close' };

// Hand-made: a notice, a wait, a retry whose Choice either recovers or terminates.
const definition: StateMachineDefinition = {
  Comment: 'tiny',
  StartAt: 'Notice',
  TimeoutSeconds: 60,
  States: {
    Notice: { Type: 'Task', Resource: 'arn:notice', Next: 'Wait' },
    Wait: { Type: 'Wait', Seconds: 10, Next: 'Retry' },
    Retry: { Type: 'Task', Resource: 'arn:retry', Next: 'RetryPaid' },
    RetryPaid: { Type: 'Choice', Choices: [{ Variable: '$.outcome', StringEquals: 'paid', Next: 'Recover' }], Default: 'Terminate' },
    Recover: { Type: 'Task', Resource: 'arn:close', Next: 'Recovered' },
    Recovered: { Type: 'Succeed' },
    Terminate: { Type: 'Task', Resource: 'arn:close', End: true },
  },
};

describe('walkPath', () => {
  it('enters every state along the default branch until an End', () => {
    const states = walkPath(definition, { choose: (_, choice) => choice.Default! });
    expect(states).toEqual(['Notice', 'Wait', 'Retry', 'RetryPaid', 'Terminate']);
  });

  it('follows the Choice rule the path picks into a Succeed state', () => {
    const states = walkPath(definition, { choose: (_, choice) => choice.Choices[0]!.Next });
    expect(states).toEqual(['Notice', 'Wait', 'Retry', 'RetryPaid', 'Recover', 'Recovered']);
  });

  it('stops in the state the execution was stopped in, counting it', () => {
    expect(walkPath(definition, { choose: () => 'never', stopIn: 'Wait' })).toEqual(['Notice', 'Wait']);
  });

  it('refuses a path that never reaches the state it claims to stop in', () => {
    expect(() => walkPath(definition, { choose: (_, choice) => choice.Default!, stopIn: 'Recover' })).toThrow(/never enters Recover/);
  });
});

describe("the default policy's billed transitions", () => {
  const counts = (built: StateMachineDefinition) =>
    Object.fromEntries(plansFor(built).map((plan) => [plan.path, walkPath(built, plan.spec).length]));

  it('adds one Choice after each notice and after Terminate to every path that passes them, and nothing for a retry', () => {
    const before = counts(definitionBeforeStandDown());
    const after = counts(buildDefinition(loadPolicyFile(), ARNS));

    // Before stages stood down by result: a pause was a retried error, a closed case a caught one.
    expect(before).toEqual({
      'recovered at Retry1': 6,
      'paid during WaitBeforeRetry1': 2,
      'recovered at Retry2': 10,
      'paid during WaitBeforeRetry2': 6,
      'recovered at Retry3': 14,
      'paid during WaitBeforeRetry3': 10,
      terminated: 14,
    });
    expect(after).toEqual({
      'recovered at Retry1': 7,
      'paid during WaitBeforeRetry1': 3,
      'recovered at Retry2': 12,
      'paid during WaitBeforeRetry2': 8,
      'recovered at Retry3': 17,
      'paid during WaitBeforeRetry3': 13,
      terminated: 18,
    });
    expect(after.terminated).toBeLessThanOrEqual(25);
  });
});
