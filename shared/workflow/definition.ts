// Generates the Amazon States Language definition of one dunning execution from the policy.
// CDK deploys it and the local runtime runs it in aws-local-stepfunctions: one source, no AWS imports.
import { CaseClosedError } from '../domain/errors.ts';
import { crashRetrier, DEFAULT_RETRY, patientRetrier, pausedRetrier, permanentRetrier, SECONDS_PER_DAY, transientRetrier, type RetrySettings } from './retriers.ts';

export { DEFAULT_RETRY, SECONDS_PER_DAY, type RetrySettings } from './retriers.ts';
import type { Policy, Stage } from '../policy/schema.ts';
import { PAUSE_CAP_DAYS, PAUSE_POLL_SECONDS } from '../domain/pause-limits.ts';
import { DEFAULT_POLICY_NAME, longestEndDay, policyNames, singlePolicySet, type PolicySet } from '../policy/segments.ts';
import type { RecoveredBy } from '../domain/case.ts';
import { STAND_DOWN_RETURN, type StandDown } from './stand-down.ts';
import { noticeMayBeEarly } from '../retries/schedule.ts';

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


/**
 * What a retry stage returns; the `<retryId>Paid` Choice after it reads `$.retry.outcome`. `paid`
 * says how (`workflow_retry` for our own charge; how Stripe says it was paid when someone else paid
 * first), for RecoverCase to record.
 */
export type RetryTaskOutput =
  | { outcome: 'paid'; recoveredBy: RecoveredBy }
  /** `waitUntil`: when the next step is due (the Wait after the stage reads it). */
  | { outcome: 'declined'; code?: string; waitUntil: string }
  /** The retry rules put the charge later: the stage runs again at `waitUntil` (`<retryId>Later`). */
  | { outcome: 'later'; waitUntil: string }
  | StandDown;

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

/** The Choice state that follows a retry stage: paid, stood down, or on to the next stage. */
export function paidChoiceName(stageId: string): string {
  return `${stageId}Paid`;
}

/**
 * The Wait a retry stage loops through when the retry rules put its charge later; and a notice that
 * follows a retry on its day, when that retry ran on an earlier day, until the notice's own day.
 */
export function laterWaitName(stageId: string): string {
  return `${stageId}Later`;
}

/** The Choice state that follows a notice stage and Terminate: stood down, or on. */
export function stoodDownChoiceName(stageId: string): string {
  return `${stageId}StoodDown`;
}

/** The Wait state a stage that found its case paused waits in (a policy hour) before it runs again. */
export function pausedWaitName(stageId: string): string {
  return `${stageId}Paused`;
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
 *
 * A stage that must not act is no failure: every Task passes `standDown: "return"` and a Choice
 * reads its result. A closed case ends in CaseClosed; a paused one waits a policy hour in
 * `<stage>Paused` and runs the same stage again, for as long as the pause lasts (the timeout allows
 * the longest). A retry stage's `<retryId>Paid` Choice does this too; a notice stage and Terminate
 * are followed by `<stage>StoodDown`. RecoverCase never stands down: it acts on a paused case (a
 * payment recovers it) and reports a closed one as its status.
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
  // Generated names could meet a stage id (a stage "Notice1Paused" beside "Notice1"): refuse, loudly.
  const add = (name: string, state: Json) => {
    if (Object.hasOwn(states, name)) throw new Error(`two states would be named "${name}": rename the stage with that id`);
    states[name] = state;
  };
  const entries = new Map<string, string>();
  for (const name of names) entries.set(name, addPolicy(set.policies[name]!, name));

  add(STATE.recovered, { Type: 'Succeed', Comment: 'Paid: confirmation sent, banner cleared' });
  add(STATE.terminated, { Type: 'Succeed', Comment: 'Every retry failed: the end action ran' });
  add(STATE.caseClosed, {
    Type: 'Succeed',
    Comment: 'The case closed while this execution ran (paid or stopped elsewhere): nothing more to do',
  });

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
        add(terminate, task(arns.closeCase, tagged({ action: 'terminate', 'invoiceId.$': '$.invoiceId', standDown: STAND_DOWN_RETURN }), {
          ResultPath: '$.terminate',
          Next: named(stoodDownChoiceName(STATE.terminate)),
        }));
        add(named(stoodDownChoiceName(STATE.terminate)), {
          Type: 'Choice',
          Choices: standDownRules(STATE.terminate, '$.terminate'),
          Default: STATE.terminated,
        });
      },
    });

    let day = 0;
    // Where each step's Task puts its result; the Wait after it reads `waitUntil` from there.
    const resultPathOf = (id: string): string => {
      if (id === STATE.terminate) return '$.terminate';
      return policy.stages.find((s) => s.id === id)?.type === 'retry' ? '$.retry' : '$.notice';
    };
    const dayBefore = (index: number): number => (index === 0 ? 0 : (steps[index - 1]?.day ?? 0));
    const entryOf = (index: number): string => {
      const step = steps[index];
      if (!step) throw new Error(`no step ${index}`);
      return named(step.day > dayBefore(index) ? waitStateName(step.id) : step.id);
    };

    steps.forEach((step, index) => {
      if (step.day > day) {
        const previous = steps[index - 1];
        add(named(waitStateName(step.id)), previous
          ? {
              // The stage before says when: a notice or the end on its policy day, a retry when the
              // retry rules put it (the customer's hours, a payday, a back-off; shared/retries/).
              Type: 'Wait',
              Comment: `Until ${step.id} is due (day ${step.day} after the failure, or when the retry rules put it)`,
              TimestampPath: `${resultPathOf(previous.id)}.waitUntil`,
              Next: named(step.id),
            }
          : {
              // Nothing ran before it: the policy's days count from the execution's start. A retry
              // here that finds itself outside the customer's hours waits in `<retry>Later`.
              Type: 'Wait',
              Comment: `Until day ${step.day} after the failure`,
              Seconds: (step.day - day) * SECONDS_PER_DAY,
              Next: named(step.id),
            });
        day = step.day;
      }
      const next = index + 1 < steps.length ? entryOf(index + 1) : STATE.terminated;
      step.build(next);
    });

    // Only a paid retry leads here. Its whole result is passed, not `$.retry.recoveredBy`: a path that
    // selects nothing fails the execution, and a retry-payment of an earlier version has no recoveredBy.
    add(recoverCase, task(arns.closeCase, tagged({ action: 'recover', 'invoiceId.$': '$.invoiceId', 'retry.$': '$.retry' }), {
      ResultPath: null,
      Next: STATE.recovered,
    }));
    return entryOf(0);

    function addStage(stage: Stage, next: string): void {
      if (stage.type === 'notice') {
        add(named(stage.id), task(
          arns.sendNotice,
          tagged({ action: 'notice', 'invoiceId.$': '$.invoiceId', stage: stage.id, standDown: STAND_DOWN_RETURN }),
          { ResultPath: '$.notice', Next: named(stoodDownChoiceName(stage.id)) },
        ));
        const rules = standDownRules(stage.id, '$.notice');
        // A retry just before it on the same day may have run on an earlier day (a payday, a day with
        // no business hours left): the notice then says it is early, and waits for its own day.
        if (noticeMayBeEarly(policy, stage.id)) {
          add(named(laterWaitName(stage.id)), {
            Type: 'Wait',
            Comment: `${stage.id} started before its day (the retry before it moved earlier): wait for its day`,
            TimestampPath: '$.notice.waitUntil',
            Next: named(stage.id),
          });
          rules.push({ And: [{ Variable: '$.notice.outcome', IsPresent: true }, { Variable: '$.notice.outcome', StringEquals: 'early' }], Next: named(laterWaitName(stage.id)) });
        }
        add(named(stoodDownChoiceName(stage.id)), { Type: 'Choice', Choices: rules, Default: next });
        return;
      }
      add(named(stage.id), task(
        arns.retryPayment,
        tagged({ action: 'retry', 'invoiceId.$': '$.invoiceId', stage: stage.id, standDown: STAND_DOWN_RETURN }),
        { ResultPath: '$.retry', Next: named(paidChoiceName(stage.id)) },
      ));
      // The retry rules put the charge later (a new decline since it was planned, a start that
      // missed the customer's hours): wait until then and run the stage again.
      add(named(laterWaitName(stage.id)), {
        Type: 'Wait',
        Comment: `The retry rules put ${stage.id} later: run it again then`,
        TimestampPath: '$.retry.waitUntil',
        Next: named(stage.id),
      });
      // The paid rule stays first: the bench walks a recovered path through Choices[0].
      add(named(paidChoiceName(stage.id)), {
        Type: 'Choice',
        Choices: [
          { Variable: '$.retry.outcome', StringEquals: 'paid', Next: recoverCase },
          ...standDownRules(stage.id, '$.retry'),
          { And: [{ Variable: '$.retry.outcome', IsPresent: true }, { Variable: '$.retry.outcome', StringEquals: 'later' }], Next: named(laterWaitName(stage.id)) },
        ],
        Default: next,
      });
    }

    /**
     * The rules that stop a stage which stood down (its result at `resultPath`), and the Wait a paused
     * one loops through. Each rule checks the outcome is present: a Choice on a missing field fails the
     * execution, and close-case of an earlier version (say, after a rollback) returns none for Terminate.
     * The loop has no count: a pause ends at most PAUSE_CAP_DAYS after the case opened, so it looks at
     * most about 750 times, some 9 history events each, well inside Step Functions' 25,000 per execution.
     */
    function standDownRules(stageId: string, resultPath: string): Json[] {
      const wait = named(pausedWaitName(stageId));
      add(wait, {
        Type: 'Wait',
        Comment: `The case is paused: run ${stageId} again in an hour`,
        Seconds: PAUSE_POLL_SECONDS,
        Next: named(stageId),
      });
      const outcome = `${resultPath}.outcome`;
      const is = (value: StandDown['outcome']) => [
        { Variable: outcome, IsPresent: true },
        { Variable: outcome, StringEquals: value },
      ];
      return [
        { And: is('closed'), Next: STATE.caseClosed },
        { And: is('paused'), Next: wait },
      ];
    }
  }

  function task(resource: string, parameters: Json, rest: Json): Json {
    return {
      Type: 'Task',
      Resource: resource,
      Parameters: parameters,
      TimeoutSeconds: TASK_TIMEOUT_SECONDS,
      Retry: [patientRetrier(), transientRetrier(retry), permanentRetrier(), pausedRetrier(), crashRetrier()],
      // Only the closed case is caught (this version's stages return it; the catch is a backstop):
      // any other failure after the retries fails the execution here, where a redrive picks it up.
      Catch: [{ ErrorEquals: [CaseClosedError.name], ResultPath: null, Next: STATE.caseClosed }],
      ...rest,
    };
  }
}

/** Every Task state and the stage function it invokes; the local runtime binds handlers with this. */
export function taskStates(definition: StateMachineDefinition): Array<{ name: string; resource: string }> {
  return Object.entries(definition.States)
    .filter(([, state]) => state.Type === 'Task')
    .map(([name, state]) => ({ name, resource: String(state.Resource) }));
}

/**
 * Every Wait state of a fixed duration, in policy days; the local runtime compresses them. A Wait
 * until a timestamp (`TimestampPath`) needs nothing: its stage already gave the time on the case's
 * business clock, compressed locally.
 */
export function waitStates(definition: StateMachineDefinition): Array<{ name: string; days: number }> {
  return Object.entries(definition.States)
    .filter(([, state]) => state.Type === 'Wait' && state.Seconds !== undefined)
    .map(([name, state]) => ({ name, days: Number(state.Seconds) / SECONDS_PER_DAY }));
}
