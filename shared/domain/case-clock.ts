// The clock an operator reads and gives a case's times in. In AWS it is the wall clock: every time
// is shown and taken as stored. Locally a policy day lasts DUNNING_DAY_MS, and a case's business
// dates (failedAt, terminatesAt) are in Stripe's clock, often a test clock's frozen time, while
// the functions stamp what they do with the wall clock: a case clock puts both on one time line.
import type { DunningCase } from './case.ts';

const DAY_MS = 86_400_000;

export interface CaseClock {
  /** How the times read, said once above them ("the test clock of the case (clock_…)…"); absent for the wall clock. */
  description?: string;
  /** A word for it beside a time ("test clock"); absent for the wall clock. */
  name?: string;
  /** A stored instant (the wall clock the functions and the state machine run on) as this clock reads it. */
  show(stored: Date): Date;
  /** A time given in this clock, as the stored instant it stands for. */
  store(given: Date): Date;
  /**
   * Day 0 of the case's schedule in this clock, when it is not the case's creation: a compressed
   * clock's is the failure (Stripe's clock). Absent: `createdAt` as stored.
   */
  scheduleStart?: Date;
}

/** AWS: the wall clock, where the case's dates and the functions' already agree. */
export const WALL_CLOCK: CaseClock = { show: (stored) => stored, store: (given) => given };

/**
 * The local runtime's: the case's time starts at its failure (in Stripe's clock) when the case was
 * created, and runs a policy day per `dayMs` of the wall clock, as the local state machine does. So
 * a stage on day 3 reads failedAt + 3 days, and a pause until failedAt + 5 days holds until the
 * stage of day 5. Each stage moves the clock's anchor to its own due moment as it starts
 * (`clockAnchor`): a function that starts late (a cold start is a second, days here) acts at the
 * time it was due, and the Wait after it keeps the policy's gap, as in AWS, where lateness is
 * seconds. `testClock` is the Stripe test clock of the case's customer, when it has one. Pure.
 */
export function compressedCaseClock(dunningCase: Pick<DunningCase, 'createdAt' | 'failedAt' | 'clockAnchor'>, dayMs: number, testClock?: string): CaseClock {
  const anchor = dunningCase.clockAnchor;
  const wall = Date.parse(anchor?.wall ?? dunningCase.createdAt);
  const business = Date.parse(anchor?.business ?? dunningCase.failedAt);
  const speed = DAY_MS / dayMs;
  return {
    description: testClock
      ? `the test clock of the case (${testClock}), one policy day per ${dayMs} ms here`
      : `the case's policy time, from its failure, one policy day per ${dayMs} ms here`,
    name: testClock ? 'test clock' : 'policy time',
    show: (stored) => new Date(Math.round(business + (stored.getTime() - wall) * speed)),
    store: (given) => new Date(Math.round(wall + (given.getTime() - business) / speed)),
    scheduleStart: new Date(dunningCase.failedAt),
  };
}
