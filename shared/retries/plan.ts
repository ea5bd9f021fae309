// When the next retry of a card may charge, and why: the rules of `retries: "workflow"`, as one pure
// function of the failure, the card's attempts, the customer's calendar and the policy's knobs.
// Every time is in the case's business clock (the wall clock in AWS; locally the compressed one).
import type { RetryCap, RetryTiming } from '../policy/retry-timing.ts';
import { DEFAULT_RETRY_CAPS } from '../policy/retry-timing.ts';
import { DAY_MS, firstPaydayMoment, firstPlannable, formatLocal, GRID_MS, HOUR_MS, inWindow, lastPlannable, type CustomerZones } from './calendar.ts';
import type { ChargeAttempt, DeclineClass, RetryReasonClass } from '../domain/retry-records.ts';

export type { ChargeAttempt, RetryReasonClass } from '../domain/retry-records.ts';
import { describeHours } from './classify.ts';

export type RetryDecision =
  /** `notBefore`: what holds it back (back-off, cap, payday, the policy's day), before the window is applied. */
  | { kind: 'retry'; at: Date; notBefore: Date; reason: string; reasonClass: RetryReasonClass }
  | { kind: 'skip'; reason: string; reasonClass: RetryReasonClass };

export interface RetryBounds {
  /** The policy's moment for the retry: failure + its day. Preferred, unless a payday or no business hours move it. */
  nominal: Date;
  /** The earliest it may run: the stage before it. */
  earliest: Date;
  /** The latest: before the next stage's day, and never after the end. */
  latest: Date;
  /** What bounds it, for the reason: "Notice2", "the end". */
  latestIs: string;
  /** The notice that follows the retry on its day, if any. */
  followedBy?: string;
}

export interface PlanInput {
  timing: RetryTiming;
  zones: CustomerZones;
  /** Now, in the case's business clock. */
  now: Date;
  bounds: RetryBounds;
  /** The card the retry would charge, as far as it is known (its attempts count; others' do not). */
  card?: { id?: string; brand?: string };
  /** Every attempt of the case, oldest first. */
  attempts: readonly ChargeAttempt[];
}

/** The attempts that count against `card` (all of them when the card is not known). */
export function attemptsOfCard(attempts: readonly ChargeAttempt[], card: string | undefined): ChargeAttempt[] {
  return attempts.filter((a) => card === undefined || a.card === undefined || a.card === card);
}

/** The cap that applies to a card of `brand`. */
export function capFor(timing: RetryTiming, brand: string | undefined): RetryCap {
  return (brand && timing.caps[brand]) || timing.caps.default || DEFAULT_RETRY_CAPS.default!;
}

/**
 * The earliest moment a charge of the card keeps inside its network's cap: at most `reattempts`
 * charges after a decline in any `days` days, counting every attempt (ours, Stripe's, a new card's
 * on the same card). Undefined when the cap allows none (reattempts 0).
 */
export function capAllowsFrom(attempts: readonly ChargeAttempt[], cap: RetryCap, from: Date): Date | undefined {
  if (cap.reattempts <= 0) return undefined;
  const windowMs = cap.days * DAY_MS;
  const declines = attempts.filter((a) => a.outcome === 'declined').map((a) => Date.parse(a.at)).sort((x, y) => x - y);
  let at = from.getTime();
  // A charge at `at` is reattempt number (declines in (at - window, at]) - 1 + 1.
  for (;;) {
    const inWindow = declines.filter((t) => t > at - windowMs && t <= at);
    if (inWindow.length <= cap.reattempts) return new Date(at);
    at = inWindow[inWindow.length - cap.reattempts - 1]! + windowMs + 1;
  }
}

/** The back-off after a run of try-again-later declines: firstHours × multiplier^(n-1) after the last. */
export function backoffUntil(attempts: readonly ChargeAttempt[], timing: RetryTiming): { until: Date; hours: number } | undefined {
  let run = 0;
  for (let i = attempts.length - 1; i >= 0; i -= 1) {
    const hint = attempts[i]!.failure?.timing;
    if (attempts[i]!.outcome !== 'declined' || (hint !== 'backoff' && hint !== 'after')) break;
    run += 1;
  }
  const last = attempts[attempts.length - 1];
  if (run === 0 || !last?.failure) return undefined;
  const hours =
    last.failure.timing === 'after'
      ? (last.failure.afterHours ?? timing.backoff.firstHours)
      : Math.round(timing.backoff.firstHours * timing.backoff.multiplier ** (run - 1));
  return { until: new Date(Date.parse(last.at) + hours * HOUR_MS), hours };
}

const STOP_CLASS: Partial<Record<DeclineClass, RetryReasonClass>> = { hard: 'hard', needs_customer: 'needs_customer', no_payment_method: 'no_payment_method' };

/**
 * The next retry of the card: when, or why not. In order: a failure that stops the card skips it;
 * the card's network cap and the back-off set the earliest moment; an `insufficient_funds` aims at
 * the first payday inside the bounds; anything else at the policy's moment. Every moment is a
 * quarter hour inside the customer's business hours, in the bounds (never after the end); with no
 * such moment, the retry is skipped and says why.
 */
export function planRetry(input: PlanInput): RetryDecision {
  const { timing, zones, bounds } = input;
  const attempts = attemptsOfCard(input.attempts, input.card?.id);
  const last = [...attempts].reverse().find((a) => a.outcome === 'declined');
  const failure = last?.failure;
  if (failure?.stopsCard) {
    return { kind: 'skip', reason: `${failure.reason}; waiting for ${failure.class === 'needs_customer' ? 'the customer' : 'a new card'}`, reasonClass: STOP_CLASS[failure.class] ?? 'hard' };
  }
  const brand = input.card?.brand ?? last?.brand;
  const cap = capFor(timing, brand);
  let earliest = new Date(Math.max(bounds.earliest.getTime(), input.now.getTime()));
  const notes: string[] = [];
  const backoff = backoffUntil(attempts, timing);
  if (backoff && backoff.until > earliest) {
    earliest = backoff.until;
    // Said only where it moves the retry off its day.
    if (backoff.until > bounds.nominal) notes.push(`${failure?.timing === 'after' ? 'the network asked for' : 'backing off'} ${describeHours(backoff.hours)}`);
  }
  // A wait that outlasts the bounds (or a wake after them) leaves no moment: say which, rather than
  // let the cap check below report it as the card's cap being reached.
  if (earliest > bounds.latest) {
    const heldBy: RetryReasonClass = notes.length === 0 ? 'no_window' : failure?.timing === 'after' ? 'after' : 'backoff';
    return { kind: 'skip', reason: [failure ? failure.code : 'the policy\'s day', ...notes, `no time left before ${bounds.latestIs}`].join('; '), reasonClass: heldBy };
  }
  const capped = capAllowsFrom(attempts, cap, earliest);
  if (!capped || capped > bounds.latest) {
    return {
      kind: 'skip',
      reason: `${brand ?? 'card'} cap of ${cap.reattempts} reattempts in ${cap.days} days reached; waiting for a new card`,
      reasonClass: 'cap',
    };
  }
  if (capped > earliest) {
    earliest = capped;
    if (capped > bounds.nominal) notes.push(`held to the ${brand ?? 'card'} cap of ${cap.reattempts} in ${cap.days} days`);
  }
  const why = failure ? failure.code : 'the policy\'s day';
  const reasonClass: RetryReasonClass = failure?.timing === 'payday' ? 'payday' : failure?.timing === 'backoff' ? 'backoff' : failure?.timing === 'after' ? 'after' : 'standard';
  const explain = (...parts: string[]) => [why, ...notes, ...parts].join('; ');

  if (failure?.timing === 'payday') {
    const payday = firstPaydayMoment(earliest, bounds.latest, timing.paydays, timing.window, zones.zones, zones.primary);
    if (payday) return { kind: 'retry', at: payday.at, notBefore: payday.at, reason: explain(`next payday (${payday.payday}) inside business hours`), reasonClass: 'payday' };
    notes.push(`no payday before ${bounds.latestIs}`);
  }
  const target = new Date(Math.max(earliest.getTime(), bounds.nominal.getTime()));
  const at = firstPlannable(target, bounds.latest, timing.window, zones.zones) ?? lastPlannable(earliest, bounds.latest, timing.window, zones.zones);
  if (!at) {
    return { kind: 'skip', reason: explain(`no business hours before ${bounds.latestIs}`), reasonClass: 'no_window' };
  }
  const moved =
    at.getTime() === bounds.nominal.getTime()
      ? 'on the policy\'s day'
      : at < bounds.nominal
        ? (bounds.latest.getTime() - bounds.nominal.getTime() < 0 ? `the last business hours before ${bounds.latestIs}` : 'no business hours left on its day: the last ones before it')
        : 'inside business hours';
  return { kind: 'retry', at, notBefore: target, reason: explain(moved), reasonClass };
}

/** The plan a retry stage was woken for: its moment, and when it was made (both in the case's business clock). */
export interface StandingPlan {
  at: Date;
  plannedAt: Date;
  reason: string;
  reasonClass: RetryReasonClass;
}

/**
 * For a retry stage that has woken: charge now, or the later moment the rules now give, or skip.
 * Due when the plan it was woken for still stands (it is due, and no charge of the case came after
 * it was made: the moment was inside the window when chosen, and a start that runs late keeps it),
 * or when the plan's moment is this quarter hour, or when nothing holds it back any more (back-off,
 * cap, payday, the policy's day) and the customer's window is open.
 */
export function decideAtWake(input: PlanInput, standing?: StandingPlan): RetryDecision & { due?: boolean } {
  const now = input.now.getTime();
  const stands =
    standing !== undefined &&
    standing.at.getTime() <= now + GRID_MS &&
    !input.attempts.some((a) => Date.parse(a.at) > standing.plannedAt.getTime());
  if (stands) {
    // Nothing was charged since: the rules read as they did at its moment (the card given now may
    // differ, and its own attempts still stop or cap it).
    const atPlan = planRetry({ ...input, now: standing.at, bounds: { ...input.bounds, earliest: new Date(Math.min(input.bounds.earliest.getTime(), standing.at.getTime())) } });
    if (atPlan.kind === 'skip' && atPlan.reasonClass !== 'no_window') return atPlan;
    return { kind: 'retry', at: input.now, notBefore: standing.at, reason: standing.reason, reasonClass: standing.reasonClass, due: true };
  }
  const plan = planRetry(input);
  if (plan.kind === 'skip') return plan;
  const due = plan.at.getTime() <= now + GRID_MS || (plan.notBefore.getTime() <= now && inWindow(input.now, input.timing.window, input.zones.zones));
  return due ? { ...plan, at: input.now, due: true } : plan;
}

/** "retry scheduled 2026-12-15T09:30+01:00 (Europe/Paris): insufficient_funds; next payday (the 15th) inside business hours" */
export function describeDecision(decision: RetryDecision, zones: CustomerZones): string {
  if (decision.kind === 'skip') return `retry skipped: ${decision.reason}`;
  return `retry scheduled ${formatLocal(decision.at, zones.primary)} (${zones.label}): ${decision.reason}`;
}
