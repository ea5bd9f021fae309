// The retry rules (shared/retries/) applied to a case: its business clock, its customer's zones, its
// attempts. Plans the next retry and says why on the case's timeline, and gives the state machine's
// Waits the moment of the next step (`waitUntil`, which the definition's Waits read).
import type { DunningCase } from '../domain/case.ts';
import { WALL_CLOCK, type CaseClock } from '../domain/case-clock.ts';
import type { PaymentFailure, RetryLedger, Timeline } from '../domain/ports.ts';
import { classifyFailure } from '../retries/classify.ts';
import type { ChargeAttempt } from '../domain/retry-records.ts';
import type { Policy } from '../policy/schema.ts';
import { customerZones, type CustomerZones } from '../retries/calendar.ts';
import { describeDecision, planRetry, type PlanInput, type RetryDecision } from '../retries/plan.ts';
import { momentOf, policySteps, retryBounds, stepAfter } from '../retries/schedule.ts';
import type { Uses } from './deps.ts';
import { record } from './timeline.ts';

type CaseTimes = Pick<DunningCase, 'createdAt' | 'failedAt' | 'clockAnchor'>;

/** The case's business clock: the wall clock in AWS, the compressed one locally. */
export function businessClock(deps: Uses<'caseClock'>, dunningCase: CaseTimes): CaseClock {
  return deps.caseClock?.(dunningCase) ?? WALL_CLOCK;
}

/** Now, in the case's business clock. */
export function businessNow(deps: Uses<'clock' | 'caseClock'>, dunningCase: CaseTimes): Date {
  return businessClock(deps, dunningCase).show(deps.clock.now());
}

/**
 * Now, for a stage at work: in AWS the wall clock. On a compressed clock (locally) the moment the
 * stage was due, all through its run: a few hundred milliseconds of email sending are days there,
 * and would push its plans past their bounds.
 */
export function stageNow(deps: Uses<'clock' | 'caseClock'>, dunningCase: CaseTimes): Date {
  const clock = businessClock(deps, dunningCase);
  return clock.name && dunningCase.clockAnchor ? new Date(dunningCase.clockAnchor.business) : clock.show(deps.clock.now());
}

/**
 * Day 0 of the case's schedule, in its business clock: when the case was opened (its execution
 * started then, and the policy's days count from it, as they always have).
 */
export function scheduleAnchor(deps: Uses<'caseClock'>, dunningCase: CaseTimes): Date {
  return businessClock(deps, dunningCase).scheduleStart ?? new Date(dunningCase.createdAt);
}

/**
 * A stage starts: on a compressed clock (locally), the case's clock is anchored at the moment the
 * stage was due, so a function that started late acts on time and the next Wait keeps its gap. The
 * wall clock of AWS needs nothing. Returns the case as its clock now reads.
 */
export async function startStageClock(
  deps: Uses<'clock' | 'caseClock', RetryLedger>,
  dunningCase: DunningCase,
  due: (anchor: Date) => Date,
): Promise<DunningCase> {
  const clock = businessClock(deps, dunningCase);
  if (!clock.name) return dunningCase;
  // A stage an operator's pause held runs when the pause ended, not at its old moment: the pause's
  // days are not given back to the rest of the schedule.
  const pause = dunningCase.pausedUntil ? clock.show(new Date(dunningCase.pausedUntil)) : undefined;
  const dueAt = due(scheduleAnchor(deps, dunningCase));
  const business = pause && pause > dueAt && Date.parse(dunningCase.pausedUntil!) <= deps.clock.now().getTime() ? pause : dueAt;
  const anchor = { wall: deps.clock.now().toISOString(), business: business.toISOString() };
  await deps.store.setClockAnchor(dunningCase.invoiceId, anchor);
  return { ...dunningCase, clockAnchor: anchor };
}

/** When a stage of the policy is due, by its day: a notice or the end. */
export function dueByDay(policy: Policy, stageId: string): (anchor: Date) => Date {
  const step = policySteps(policy).find((s) => s.id === stageId);
  return (anchor) => momentOf(anchor, step?.day ?? 0);
}

export function zonesOfCase(policy: Policy, dunningCase: Pick<DunningCase, 'customerTimeZone' | 'customerCountry'>): CustomerZones {
  return customerZones({
    timeZone: dunningCase.customerTimeZone,
    country: dunningCase.customerCountry,
    policyZone: policy.timeZone,
    window: policy.retryTiming.window,
  });
}

/** The card the next retry will most likely charge: the last one charged (a new card is charged when it arrives). */
export function likelyCard(dunningCase: Pick<DunningCase, 'chargeAttempts'>): { id?: string; brand?: string } {
  const last = [...(dunningCase.chargeAttempts ?? [])].reverse().find((a) => a.card);
  return { id: last?.card, brand: last?.brand };
}

/** What the rules need to plan `retryId` of the case now (the card: the likely one unless given). */
export function planInput(
  deps: Uses<'clock' | 'caseClock'>,
  policy: Policy,
  dunningCase: DunningCase,
  retryId: string,
  card: { id?: string; brand?: string } = likelyCard(dunningCase),
): PlanInput {
  return {
    timing: policy.retryTiming,
    zones: zonesOfCase(policy, dunningCase),
    now: stageNow(deps, dunningCase),
    bounds: retryBounds(policy, retryId, scheduleAnchor(deps, dunningCase)),
    card,
    attempts: dunningCase.chargeAttempts ?? [],
  };
}

export type RetryPlanDeps = Uses<'clock' | 'caseClock' | 'log' | 'metrics', RetryLedger & Timeline>;

/**
 * Records a decision about `retryId` where people look: the case's timeline (`retry_scheduled` or
 * `retry_skipped`, with the reason), its `nextRetry`, and the RetryScheduled metric by reason class.
 */
export async function recordDecision(deps: RetryPlanDeps, policy: Policy, dunningCase: DunningCase, retryId: string, decision: RetryDecision): Promise<void> {
  const now = deps.clock.now().toISOString();
  const zones = zonesOfCase(policy, dunningCase);
  const plannedAt = stageNow(deps, dunningCase).toISOString();
  await deps.store.setNextRetry(
    dunningCase.invoiceId,
    { stage: retryId, ...(decision.kind === 'retry' ? { at: decision.at.toISOString() } : {}), reason: decision.reason, reasonClass: decision.reasonClass, plannedAt },
    now,
  );
  await record(deps, dunningCase.invoiceId, decision.kind === 'retry' ? 'retry_scheduled' : 'retry_skipped', {
    at: now,
    stage: retryId,
    detail: describeDecision(decision, zones),
  });
  deps.metrics.count('RetryScheduled', { Reason: decision.reasonClass });
  deps.log.info(describeDecision(decision, zones), { invoiceId: dunningCase.invoiceId, stage: retryId });
}

/**
 * When the step after `stageId` is due, as the state machine's Wait reads it (the stored clock,
 * ISO 8601): a notice or the end on its policy day; a retry when the rules plan it (recorded), or,
 * when they skip it, on its day, where it records why. Never before now.
 */
export async function waitUntilAfter(deps: RetryPlanDeps, policy: Policy, dunningCase: DunningCase, stageId: string): Promise<string> {
  const next = stepAfter(policy, stageId);
  const now = deps.clock.now();
  const stored = (at: Date) => waitStamp(deps, dunningCase, at);
  if (!next) return now.toISOString();
  const anchor = scheduleAnchor(deps, dunningCase);
  if (next.kind !== 'retry' || policy.retries === 'stripe') return stored(momentOf(anchor, next.day));
  const input = planInput(deps, policy, dunningCase, next.id);
  const decision = planRetry(input);
  if (decision.kind === 'retry') {
    await recordDecision(deps, policy, dunningCase, next.id, decision);
    return stored(decision.at);
  }
  // Skipped: the stage runs on its day anyway and says why then (a new card may have come by).
  return stored(new Date(Math.min(input.bounds.nominal.getTime(), input.bounds.latest.getTime())));
}

/** Stripe's own declined attempt (the renewal's, or a later automatic one) as the case records it. */
export function stripeDecline(at: Date, failure: PaymentFailure | undefined): ChargeAttempt {
  return {
    at: at.toISOString(),
    by: 'stripe',
    outcome: 'declined',
    ...(failure?.paymentMethod ? { card: failure.paymentMethod } : {}),
    ...(failure?.cardBrand ? { brand: failure.cardBrand } : {}),
    ...(failure ? { failure: classifyFailure(failure) } : {}),
  };
}

/**
 * The instant a Wait waits until, for `at` on the case's business clock: `at` itself in AWS (never
 * before now). On a compressed clock (locally) the gap from the moment the stage was due, counted
 * from now, as the stage ends: its own run, which lasts days there, is not taken from the gap.
 */
export function waitStamp(deps: Uses<'clock' | 'caseClock'>, dunningCase: DunningCase, at: Date): string {
  const clock = businessClock(deps, dunningCase);
  const now = deps.clock.now().getTime();
  const gap = clock.store(at).getTime() - clock.store(stageNow(deps, dunningCase)).getTime();
  return new Date(Math.max(clock.name ? now + gap : clock.store(at).getTime(), now)).toISOString();
}

/** A case with one more attempt, as the store now holds it. */
export function withAttempt(dunningCase: DunningCase, attempt: ChargeAttempt): DunningCase {
  return { ...dunningCase, chargeAttempts: [...(dunningCase.chargeAttempts ?? []), attempt] };
}
