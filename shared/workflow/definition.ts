// Generates the Amazon States Language definition of one dunning execution from the policy.
// CDK deploys it and the local runtime runs it in aws-local-stepfunctions: one source, no AWS imports.
import { PERMANENT_ERRORS, TRANSIENT_ERRORS } from '../domain/errors.ts';
import type { Policy, Stage } from '../policy/schema.ts';
import { PAUSE_CAP_DAYS, PAUSE_POLL_SECONDS } from '../dunning/pause.ts';
import { DEFAULT_POLICY_NAME, longestEndDay, policyNames, singlePolicySet, type PolicySet } from '../policy/segments.ts';

/** The three stage Lambdas a definition invokes, by ARN (CDK tokens in AWS, fixed strings locally). */
export interface StageFunctionArns {
  sendNotice: string;
  retryPayment: string;
  closeCase: string;
}
export type StageFunction = keyof StageFunctionArns;

/** State names that do not come from the policy. Alarms, the runbook and local overrides use them. */
export const STATE = {
  recoverCase: 'RecoverCase',
  recovered: 'Recovered',
  terminate: 'Terminate',
  terminated: 'Terminated',
  caseClosed: 'CaseClosed',
} as const;

export const SECONDS_PER_DAY = 86_400;

/** Payloads the stage Lambdas receive. Each carries the stage so one function serves many states. */
export type StageTaskInput =
  | { action: 'notice'; invoiceId: string; stage: string; policy?: string }
  | { action: 'retry'; invoiceId: string; stage: string; policy?: string }
  | { action: 'recover'; invoiceId: string; policy?: string }
  | { action: 'terminate'; invoiceId: string; policy?: string };

/** What a retry stage returns; the Choice after it reads `$.retry.outcome`. */
export interface RetryTaskOutput {
  outcome: 'paid' | 'declined';
  code?: string;
}

export interface RetrySettings {
  /** First backoff interval for transient errors (seconds). */
  intervalSeconds: number;
  maxAttempts: number;
  backoffRate: number;
  maxDelaySeconds: number;
}

export const DEFAULT_RETRY: RetrySettings = {
  intervalSeconds: 5,
  maxAttempts: 6,
  backoffRate: 2,
  maxDelaySeconds: 300,
};

/** Task timeout: a stage makes a few API calls; anything slower is a hang worth retrying. */
const TASK_TIMEOUT_SECONDS = 60;

type Json = Record<string, unknown>;

export interface StateMachineDefinition {
  Comment: string;
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, Json>;
}

export function waitStateName(stageId: string): string {
  return `WaitBefore${stageId}`;
}

/** The Choice state that follows a retry stage. */
export function paidChoiceName(stageId: string): string {
  return `${stageId}Paid`;
}

/** The Choice state a definition of several policies starts with: it reads `$.policy`. */
export const CHOOSE_POLICY = 'ChoosePolicy';

/**
 * A policy's state name: the default policy keeps the plain names (so a single-policy definition is
 * exactly what it always was); another's are prefixed with its name, e.g. `annual.Notice1`.
 */
export function policyStateName(policy: string, state: string): string {
  return policy === DEFAULT_POLICY_NAME ? state : `${policy}.${state}`;
}

/**
 * One state machine runs every policy of the file. With one policy it is that policy's states. With
 * several, `ChoosePolicy` sends each execution (input `{ invoiceId, policy }`) to its policy's first
 * state; each policy has its own stages, RecoverCase and Terminate, and they share the terminal
 * states. Task parameters then carry `policy` too, so a stage knows which policy it runs.
 *
 * A stage that fails after its retries fails the execution at that stage: nothing catches it, so
 * Step Functions' RedriveExecution re-runs exactly that stage once the cause is fixed. The case is
 * flagged needs_attention from the execution's status (shared/dunning/failed-execution.ts).
 */
export function buildDefinition(
  policies: Policy | PolicySet,
  arns: StageFunctionArns,
  retry: RetrySettings = DEFAULT_RETRY,
): StateMachineDefinition {
  const set = 'policies' in policies ? policies : singlePolicySet(policies);
  const names = policyNames(set);
  const several = names.length > 1;
  const states: Record<string, Json> = {};
  const entries = new Map<string, string>();
  for (const name of names) entries.set(name, addPolicy(set.policies[name]!, name));

  states[STATE.recovered] = { Type: 'Succeed', Comment: 'Paid: confirmation sent, banner cleared' };
  states[STATE.terminated] = { Type: 'Succeed', Comment: 'Every retry failed: the end action ran' };
  states[STATE.caseClosed] = {
    Type: 'Succeed',
    Comment: 'The case closed while this execution ran (paid or stopped elsewhere): nothing more to do',
  };

  const describe = (policy: Policy) => `${policy.stages.map((s) => `${s.id}@day${s.day}`).join(', ')}, end@day${policy.end.day}`;
  if (!several) {
    const policy = set.policies[DEFAULT_POLICY_NAME]!;
    return {
      Comment: `Dunning: ${describe(policy)}`,
      StartAt: entries.get(DEFAULT_POLICY_NAME)!,
      // A backstop far beyond the policy (and the longest operator pause): an execution that
      // outlives it is a bug, and fails loudly.
      TimeoutSeconds: (policy.end.day + 7 + PAUSE_CAP_DAYS) * SECONDS_PER_DAY,
      States: states,
    };
  }
  // Placed first for readability; a case without `policy` (an older execution's input) gets default.
  const choose: Json = {
    Type: 'Choice',
    Comment: "Run the case's policy, chosen by the router when it opened the case",
    Choices: names
      .filter((name) => name !== DEFAULT_POLICY_NAME)
      .map((name) => ({
        And: [
          { Variable: '$.policy', IsPresent: true },
          { Variable: '$.policy', StringEquals: name },
        ],
        Next: entries.get(name)!,
      })),
    Default: entries.get(DEFAULT_POLICY_NAME)!,
  };
  return {
    Comment: `Dunning: ${names.map((name) => `${name}: ${describe(set.policies[name]!)}`).join('; ')}`,
    StartAt: CHOOSE_POLICY,
    // A backstop far beyond the longest policy (and the longest operator pause): an execution that
    // outlives it is a bug, and fails loudly.
    TimeoutSeconds: (longestEndDay(set) + 7 + PAUSE_CAP_DAYS) * SECONDS_PER_DAY,
    States: { [CHOOSE_POLICY]: choose, ...states },
  };

  /** Adds one policy's states; returns the name of its first state. */
  function addPolicy(policy: Policy, policyName: string): string {
    const named = (state: string) => policyStateName(policyName, state);
    // Only a definition of several policies tells its tasks which one they run: one policy's
    // definition stays exactly as it was before there could be more.
    const tagged = (parameters: Json): Json => (several ? { ...parameters, policy: policyName } : parameters);
    const recoverCase = named(STATE.recoverCase);
    const terminate = named(STATE.terminate);
    // Each step knows the day it runs on; a Wait is inserted whenever the day moves forward.
    const steps: Array<{ id: string; day: number; build: (next: string) => void }> = [];

    for (const stage of policy.stages) {
      steps.push({ id: stage.id, day: stage.day, build: (next) => addStage(stage, next) });
    }
    steps.push({
      id: STATE.terminate,
      day: policy.end.day,
      build: () => {
        states[terminate] = task(arns.closeCase, tagged({ action: 'terminate', 'invoiceId.$': '$.invoiceId' }), {
          ResultPath: null,
          Next: STATE.terminated,
        });
      },
    });

    let day = 0;
    const dayBefore = (index: number): number => (index === 0 ? 0 : (steps[index - 1]?.day ?? 0));
    const entryOf = (index: number): string => {
      const step = steps[index];
      if (!step) throw new Error(`no step ${index}`);
      return named(step.day > dayBefore(index) ? waitStateName(step.id) : step.id);
    };

    steps.forEach((step, index) => {
      if (step.day > day) {
        states[named(waitStateName(step.id))] = {
          Type: 'Wait',
          Comment: `Until day ${step.day} after the failure`,
          Seconds: (step.day - day) * SECONDS_PER_DAY,
          Next: named(step.id),
        };
        day = step.day;
      }
      const next = index + 1 < steps.length ? entryOf(index + 1) : STATE.terminated;
      step.build(next);
    });

    states[recoverCase] = task(arns.closeCase, tagged({ action: 'recover', 'invoiceId.$': '$.invoiceId' }), {
      ResultPath: null,
      Next: STATE.recovered,
    });
    return entryOf(0);

    function addStage(stage: Stage, next: string): void {
      if (stage.type === 'notice') {
        states[named(stage.id)] = task(
          arns.sendNotice,
          tagged({ action: 'notice', 'invoiceId.$': '$.invoiceId', stage: stage.id }),
          { ResultPath: null, Next: next },
        );
        return;
      }
      states[named(stage.id)] = task(
        arns.retryPayment,
        tagged({ action: 'retry', 'invoiceId.$': '$.invoiceId', stage: stage.id }),
        { ResultPath: '$.retry', Next: named(paidChoiceName(stage.id)) },
      );
      states[named(paidChoiceName(stage.id))] = {
        Type: 'Choice',
        Choices: [{ Variable: '$.retry.outcome', StringEquals: 'paid', Next: recoverCase }],
        Default: next,
      };
    }
  }

  function task(resource: string, parameters: Json, rest: Json): Json {
    return {
      Type: 'Task',
      Resource: resource,
      Parameters: parameters,
      TimeoutSeconds: TASK_TIMEOUT_SECONDS,
      Retry: [transientRetrier(retry), permanentRetrier(), pausedRetrier(), crashRetrier()],
      // Only the closed case is caught: any other failure after the retries fails the execution
      // here, where a redrive picks it up again.
      Catch: [{ ErrorEquals: ['CaseClosedError'], ResultPath: null, Next: STATE.caseClosed }],
      ...rest,
    };
  }
}

/** Stripe, SES and DynamoDB trouble, plus Lambda's own transient faults: back off with full jitter. */
function transientRetrier(retry: RetrySettings): Json {
  return {
    ErrorEquals: [
      ...TRANSIENT_ERRORS,
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
    ],
    IntervalSeconds: retry.intervalSeconds,
    MaxAttempts: retry.maxAttempts,
    BackoffRate: retry.backoffRate,
    MaxDelaySeconds: retry.maxDelaySeconds,
    JitterStrategy: 'FULL',
  };
}

/** Errors retrying cannot fix, and the closed case, are never retried (matched before States.ALL). */
function permanentRetrier(): Json {
  return { ErrorEquals: ['CaseClosedError', ...PERMANENT_ERRORS], MaxAttempts: 0 };
}

/**
 * A case an operator paused: look again every hour, for as long as a pause can last (it ends at most
 * PAUSE_CAP_DAYS after the case opened), plus a day's margin. Matched before States.ALL.
 */
function pausedRetrier(): Json {
  return {
    ErrorEquals: ['CasePausedError'],
    IntervalSeconds: PAUSE_POLL_SECONDS,
    MaxAttempts: ((PAUSE_CAP_DAYS + 1) * SECONDS_PER_DAY) / PAUSE_POLL_SECONDS,
    BackoffRate: 1,
  };
}

/** Anything else, e.g. a Lambda that crashed or timed out: a couple of tries, then the execution fails. */
function crashRetrier(): Json {
  return { ErrorEquals: ['States.ALL'], IntervalSeconds: 10, MaxAttempts: 2, BackoffRate: 2, JitterStrategy: 'FULL' };
}

/** Every Task state and the stage function it invokes; the local runtime binds handlers with this. */
export function taskStates(definition: StateMachineDefinition): Array<{ name: string; resource: string }> {
  return Object.entries(definition.States)
    .filter(([, state]) => state.Type === 'Task')
    .map(([name, state]) => ({ name, resource: String(state.Resource) }));
}

/** Every Wait state with its duration in policy days; the local runtime compresses them. */
export function waitStates(definition: StateMachineDefinition): Array<{ name: string; days: number }> {
  return Object.entries(definition.States)
    .filter(([, state]) => state.Type === 'Wait')
    .map(([name, state]) => ({ name, days: Number(state.Seconds) / SECONDS_PER_DAY }));
}
