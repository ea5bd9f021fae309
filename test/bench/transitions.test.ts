import { describe, expect, it } from 'vitest';
import type { StateMachineDefinition } from '#shared/workflow/definition.ts';
import { walkPath } from './transitions.ts';

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
