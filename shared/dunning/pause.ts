// An operator's pause on one case: until it ends or is lifted, the stages send and charge nothing
// (they stand down as `paused`, and the state machine runs them again an hour later) and the
// router's immediate actions stand down. A payment still recovers a paused case.
import type { Cases, Timeline } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { WALL_CLOCK, type CaseClock } from '../domain/case-clock.ts';
import { CasePausedError } from '../domain/errors.ts';
import { PAUSE_CAP_DAYS } from '../domain/pause-limits.ts';
import type { Uses } from './deps.ts';
import { record } from './timeline.ts';

const DAY_MS = 86_400_000;

/** The pause in force at `now`, if any. */
export function pausedUntil(dunningCase: Pick<DunningCase, 'pausedUntil' | 'status'>, now: Date): string | undefined {
  if (dunningCase.status !== 'open' || !dunningCase.pausedUntil) return undefined;
  return Date.parse(dunningCase.pausedUntil) > now.getTime() ? dunningCase.pausedUntil : undefined;
}

/** For a stage that has just begun: a paused case waits (the stage stands down; shared/workflow/stand-down.ts). */
export function assertNotPaused(dunningCase: DunningCase, now: Date): void {
  const until = pausedUntil(dunningCase, now);
  if (until) throw new CasePausedError(dunningCase.invoiceId, until);
}

/** The latest a case may be paused until: PAUSE_CAP_DAYS after it opened, in `clock`. */
export function pauseCap(dunningCase: Pick<DunningCase, 'createdAt'>, clock: CaseClock = WALL_CLOCK): Date {
  // When the case opened, in `clock`: a compressed clock knows it (its schedule's start), since the
  // stages move its anchor.
  const opened = clock.scheduleStart ?? clock.show(new Date(dunningCase.createdAt));
  return new Date(opened.getTime() + PAUSE_CAP_DAYS * DAY_MS);
}

export interface PauseResult {
  /** Until when, in the clock the pause was given in. */
  pausedUntil: string;
  /** True when the requested date was later than the cap (or none was given) and the cap applies. */
  capped: boolean;
}

/**
 * Pauses an open case until `until`, or for as long as allowed when no date is given. `until` and
 * the result are in `clock` (the wall clock in AWS; locally the case's own); the case stores the
 * wall-clock instant its stages compare with.
 */
export async function pauseCase(
  deps: Uses<'clock' | 'log', Cases & Timeline>,
  dunningCase: DunningCase,
  until?: Date,
  clock: CaseClock = WALL_CLOCK,
): Promise<PauseResult> {
  const stamp = deps.clock.now();
  const now = clock.show(stamp);
  const cap = pauseCap(dunningCase, clock);
  if (until && until.getTime() <= now.getTime()) throw new RangeError(`--until ${until.toISOString()} is not in the future${clock.name ? ` (in the ${clock.name}: it is ${now.toISOString()})` : ''}`);
  if (cap.getTime() <= now.getTime()) {
    throw new RangeError(`case ${dunningCase.invoiceId} opened more than ${PAUSE_CAP_DAYS} days ago; it cannot be paused`);
  }
  const capped = !until || until.getTime() > cap.getTime();
  const effective = (capped ? cap : until).toISOString();
  await deps.store.setPause(dunningCase.invoiceId, clock.store(new Date(effective)).toISOString(), stamp.toISOString());
  await record(deps, dunningCase.invoiceId, 'paused', {
    at: stamp.toISOString(),
    detail: `by operator until ${effective}${clock.name ? ` (${clock.name})` : ''}${capped && until ? ` (capped at ${PAUSE_CAP_DAYS} days after the case opened)` : ''}`,
  });
  deps.log.info('case paused by operator', { invoiceId: dunningCase.invoiceId, pausedUntil: effective });
  return { pausedUntil: effective, capped };
}

/** Lifts the pause: the waiting stage runs at its next look (within the poll interval). */
export async function resumeCase(deps: Uses<'clock' | 'log', Cases & Timeline>, dunningCase: DunningCase): Promise<void> {
  const now = deps.clock.now().toISOString();
  await deps.store.setPause(dunningCase.invoiceId, undefined, now);
  await record(deps, dunningCase.invoiceId, 'resumed', { at: now, detail: 'by operator' });
  deps.log.info('case resumed by operator', { invoiceId: dunningCase.invoiceId });
}
