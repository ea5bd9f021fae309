// The policy's steps on a case's clock: when each notice and the end fall, the bounds each retry
// moves in, and the whole planned sequence for a failure (what `dunning simulate` prints). Pure.
import type { Policy } from '../policy/schema.ts';
import { DAY_MS, formatLocal, type CustomerZones } from './calendar.ts';
import type { Classification } from '../domain/retry-records.ts';
import { planRetry, type ChargeAttempt, type RetryBounds, type RetryDecision } from './plan.ts';

/** The end's step id: the Terminate state. */
export const END_STEP = 'Terminate';

export interface PolicyStep {
  id: string;
  kind: 'notice' | 'retry' | 'end';
  day: number;
}

/** The policy's stages and its end, in the order the state machine runs them. */
export function policySteps(policy: Pick<Policy, 'stages' | 'end'>): PolicyStep[] {
  return [
    ...policy.stages.map((s) => ({ id: s.id, kind: s.type, day: s.day }) as PolicyStep),
    { id: END_STEP, kind: 'end', day: policy.end.day },
  ];
}

/** The step after `id`, or undefined after the end. */
export function stepAfter(policy: Pick<Policy, 'stages' | 'end'>, id: string): PolicyStep | undefined {
  const steps = policySteps(policy);
  const index = steps.findIndex((s) => s.id === id);
  if (index < 0) throw new Error(`the policy has no stage "${id}"`);
  return steps[index + 1];
}

/**
 * A notice right after a retry on the same day: the retry may have moved to an earlier day, so the
 * notice checks it is not early, and the state machine has a Wait for it to wait for its day.
 */
export function noticeMayBeEarly(policy: Pick<Policy, 'stages'>, noticeId: string): boolean {
  const index = policy.stages.findIndex((s) => s.id === noticeId);
  const stage = policy.stages[index];
  const previous = policy.stages[index - 1];
  return stage?.type === 'notice' && previous?.type === 'retry' && previous.day === stage.day;
}

/** A step's moment by the policy: `anchor` (the failure, in the case's clock) + its day. */
export function momentOf(anchor: Date, day: number): Date {
  return new Date(anchor.getTime() + day * DAY_MS);
}

/**
 * Where a retry may move: anywhere after the stage before it, up to the next stage on a later day,
 * and never after the end. When a notice follows it on its own day, no later than that policy day,
 * so the notice, sent right after it, keeps its day (a retry moved to an earlier day leaves the
 * notice to wait for its own: the notice stage waits when it starts early). The planner prefers the
 * retry's own day (`nominal`), and moves it earlier only for a payday or when its day has no
 * business hours left.
 */
export function retryBounds(policy: Pick<Policy, 'stages' | 'end'>, retryId: string, anchor: Date): RetryBounds {
  const steps = policySteps(policy);
  const index = steps.findIndex((s) => s.id === retryId);
  const step = steps[index];
  if (!step || step.kind !== 'retry') throw new Error(`the policy has no retry stage "${retryId}"`);
  const nominal = momentOf(anchor, step.day);
  const end = momentOf(anchor, policy.end.day);
  const following = steps.slice(index + 1);
  const sameDayNotice = following.find((s) => s.day === step.day && s.kind === 'notice');
  const later = following.find((s) => s.day > step.day || s.kind === 'end')!;
  let latest = sameDayNotice ? momentOf(anchor, step.day + 1) : momentOf(anchor, later.day);
  let latestIs = sameDayNotice ? `the end of day ${step.day} (${sameDayNotice.id} follows)` : later.kind === 'end' ? 'the end' : later.id;
  if (latest > end) {
    latest = end;
    latestIs = 'the end';
  }
  const previous = steps[index - 1];
  const earliest = previous ? momentOf(anchor, previous.day) : anchor;
  // The retry itself must precede what follows it, by a margin for the stage to run.
  const margin = 60_000;
  return { nominal, earliest, latest: new Date(latest.getTime() - margin), latestIs, ...(sameDayNotice ? { followedBy: sameDayNotice.id } : {}) };
}

export interface SimulatedStep {
  kind: 'notice' | 'retry' | 'end';
  stage: string;
  /** ISO 8601 with the customer's offset. */
  at: string;
  reason: string;
}

export interface Simulation {
  steps: SimulatedStep[];
  /** Retries the rules leave out, and why. */
  skipped: Array<{ stage: string; reason: string }>;
}

/**
 * The sequence the policy plans for a failure at `failedAt`, if every retry fails the same way: the
 * notices on their days, each retry when the rules put it (or skipped, and why), the end.
 */
export function simulateSequence(options: {
  policy: Policy;
  zones: CustomerZones;
  failedAt: Date;
  failure: Classification;
  card: { id: string; brand?: string };
}): Simulation {
  const { policy, zones, failedAt, failure, card } = options;
  const attempts: ChargeAttempt[] = [
    { at: failedAt.toISOString(), by: 'stripe', outcome: 'declined', card: card.id, brand: card.brand, failure },
  ];
  const steps: SimulatedStep[] = [];
  const skipped: Simulation['skipped'] = [];
  let now = failedAt;
  for (const step of policySteps(policy)) {
    if (step.kind !== 'retry') {
      const at = new Date(Math.max(momentOf(failedAt, step.day).getTime(), now.getTime()));
      steps.push({
        kind: step.kind,
        stage: step.id,
        at: formatLocal(at, zones.primary),
        reason: step.kind === 'end' ? `the policy's end (day ${step.day}): ${policy.end.action}` : `the policy's day ${step.day}`,
      });
      now = at;
      continue;
    }
    const decision: RetryDecision = planRetry({
      timing: policy.retryTiming,
      zones,
      now,
      bounds: retryBounds(policy, step.id, failedAt),
      card,
      attempts,
    });
    if (decision.kind === 'skip') {
      skipped.push({ stage: step.id, reason: decision.reason });
      continue;
    }
    steps.push({ kind: 'retry', stage: step.id, at: formatLocal(decision.at, zones.primary), reason: decision.reason });
    attempts.push({ at: decision.at.toISOString(), by: 'workflow', outcome: 'declined', card: card.id, brand: card.brand, failure, plannedFor: decision.at.toISOString() });
    now = decision.at;
  }
  return { steps, skipped };
}
