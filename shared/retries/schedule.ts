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

/** A step's moment by the policy: `anchor` (the failure, in the case's clock) + its day. */
export function momentOf(anchor: Date, day: number): Date {
  return new Date(anchor.getTime() + day * DAY_MS);
}

/**
 * Where a retry may move. Not before its day, and never after the end. Up to the next stage on a
 * later day; a notice on the retry's own day follows it at once, so a payday is looked for only
 * within the retry's policy day (the notice keeps its day), and only a day with no business hours
 * left (a weekend, an evening) carries both to the next business morning. A retry on the end's own
 * day runs in the last business hours before the end, from the stage before it on.
 */
export function retryBounds(policy: Pick<Policy, 'stages' | 'end'>, retryId: string, anchor: Date): RetryBounds {
  const steps = policySteps(policy);
  const index = steps.findIndex((s) => s.id === retryId);
  const step = steps[index];
  if (!step || step.kind !== 'retry') throw new Error(`the policy has no retry stage "${retryId}"`);
  const nominal = momentOf(anchor, step.day);
  const end = momentOf(anchor, policy.end.day);
  const later = steps.slice(index + 1).find((s) => s.day > step.day || s.kind === 'end')!;
  let latest = momentOf(anchor, later.day);
  let latestIs = later.kind === 'end' ? 'the end' : later.id;
  if (latest > end) {
    latest = end;
    latestIs = 'the end';
  }
  const sameDay = steps.slice(index + 1).find((s) => s.day === step.day && s.kind === 'notice');
  const dayEnd = sameDay ? new Date(Math.min(momentOf(anchor, step.day + 1).getTime(), latest.getTime())) : latest;
  let earliest = nominal;
  if (earliest >= latest) {
    // On the end's own day: before the end, from the stage before it on.
    const previous = steps[index - 1];
    earliest = previous ? momentOf(anchor, previous.day) : anchor;
  }
  // The retry itself must precede what follows it, by a margin for the stage to run.
  const margin = 60_000;
  return {
    nominal,
    earliest,
    latest: new Date(latest.getTime() - margin),
    latestIs,
    dayEnd: new Date(dayEnd.getTime() - margin),
    ...(sameDay ? { followedBy: sameDay.id } : {}),
  };
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
