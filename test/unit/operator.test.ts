// The operator's pure pieces: the recovery report from cases, and how long a pause may last.
import { describe, expect, it } from 'vitest';
import type { DunningCase } from '#shared/domain/case.ts';
import { CasePausedError } from '#shared/domain/errors.ts';
import { silentLog } from '#shared/dunning/deps.ts';
import { assertNotPaused, pauseCase, pausedUntil } from '#shared/dunning/pause.ts';
import { compressedCaseClock, WALL_CLOCK } from '#shared/domain/case-clock.ts';
import { recoveryReport } from '#shared/dunning/report.ts';
import { singlePolicySet } from '#shared/policy/segments.ts';
import { defaultPolicy } from '../fixtures/policies.ts';

const DAY = 86_400_000;
function aCase(overrides: Partial<DunningCase>): DunningCase {
  return {
    invoiceId: `in_${Math.random().toString(36).slice(2)}`,
    customerId: 'cus_1',
    subscriptionId: 'sub_1',
    status: 'open',
    amountDue: { amount: 1500, currency: 'gbp' },
    livemode: false,
    failedAt: '2026-03-01T00:00:00.000Z',
    terminatesAt: '2026-03-15T00:00:00.000Z',
    executionName: 'x',
    noticesSent: [],
    createdAt: '2026-03-01T00:00:00.000Z',
    updatedAt: '2026-03-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('recoveryReport', () => {
  const cases = [
    aCase({ status: 'recovered', noticesSent: ['Notice1'], amountDue: { amount: 1500, currency: 'gbp' } }),
    aCase({ status: 'recovered', noticesSent: ['Notice1', 'Notice2'], amountDue: { amount: 1500, currency: 'jpy' } }),
    aCase({ status: 'terminated', noticesSent: ['Notice1', 'Notice2', 'Notice3'] }),
    aCase({ status: 'needs_attention', noticesSent: ['Notice1', 'ActionRequired'] }),
    aCase({ status: 'open', noticesSent: ['Notice1'], createdAt: '2026-04-01T00:00:00.000Z' }),
  ];

  it('counts the funnel per notice stage, the statuses, the rate and the revenue per currency', () => {
    const report = recoveryReport(singlePolicySet(defaultPolicy()), cases);

    expect(report.opened).toBe(5);
    expect(report.reachedStage).toEqual([
      { stage: 'Notice1', cases: 5 },
      { stage: 'Notice2', cases: 2 },
      { stage: 'Notice3', cases: 1 },
    ]);
    expect(report.byStatus).toEqual({ open: 1, recovered: 2, terminated: 1, closed: 0, needs_attention: 1 });
    expect(report.recoveryRate).toBeCloseTo(2 / 3);
    expect(report.recoveredRevenue).toEqual([{ currency: 'GBP', amount: 1500 }, { currency: 'JPY', amount: 1500 }]);
  });

  it('counts only the cases opened since a date, and has no rate before any case ends', () => {
    const report = recoveryReport(singlePolicySet(defaultPolicy()), cases, new Date('2026-03-15T00:00:00Z'));
    expect(report.opened).toBe(1);
    expect(report.recoveryRate).toBeUndefined();
  });
});

describe('pauseCase', () => {
  const writes: Array<{ until?: string }> = [];
  const deps = (now: string) => ({
    clock: { now: () => new Date(now) },
    log: silentLog,
    store: {
      setPause: async (_id: string, until: string | undefined) => {
        writes.push({ until });
        return aCase({ pausedUntil: until });
      },
      appendTimeline: async () => true,
    } as never,
  });

  it('holds a pause at 30 days after the case opened, however late it is asked for', async () => {
    const c = aCase({ createdAt: '2026-03-01T00:00:00.000Z' });
    expect(await pauseCase(deps('2026-03-10T00:00:00.000Z'), c)).toEqual({ pausedUntil: '2026-03-31T00:00:00.000Z', capped: true });
    expect(await pauseCase(deps('2026-03-10T00:00:00.000Z'), c, new Date('2026-03-12T00:00:00Z'))).toEqual({ pausedUntil: '2026-03-12T00:00:00.000Z', capped: false });
    await expect(pauseCase(deps('2026-04-01T00:00:00.000Z'), c)).rejects.toThrow(/opened more than 30 days ago/);
    await expect(pauseCase(deps('2026-03-10T00:00:00.000Z'), c, new Date('2026-03-09T00:00:00Z'))).rejects.toThrow(/not in the future/);
  });

  it('takes a date in the case\'s own clock locally, and stores the wall-clock instant the stages compare with', async () => {
    // Created on the wall clock's 1 March; failed on the test clock's 1 April; a policy day is 1 s.
    const c = aCase({ createdAt: '2026-03-01T00:00:00.000Z', failedAt: '2026-04-01T00:00:00.000Z' });
    const clock = compressedCaseClock(c, 1000, 'clock_1');
    writes.length = 0;

    // Half a policy day after opening, two days ahead in the case's clock.
    const result = await pauseCase(deps('2026-03-01T00:00:00.500Z'), c, new Date('2026-04-03T00:00:00Z'), clock);

    expect(result).toEqual({ pausedUntil: '2026-04-03T00:00:00.000Z', capped: false });
    expect(writes).toEqual([{ until: '2026-03-01T00:00:02.000Z' }]);
    // The cap too is 30 days of the case's clock.
    expect(await pauseCase(deps('2026-03-01T00:00:00.500Z'), c, undefined, clock)).toEqual({ pausedUntil: '2026-05-01T00:00:00.000Z', capped: true });
    await expect(pauseCase(deps('2026-03-01T00:00:31.000Z'), c, undefined, clock)).rejects.toThrow(/opened more than 30 days ago/);
  });

  it('stops a stage only while the pause lasts and the case is open', () => {
    const paused = aCase({ pausedUntil: new Date(Date.parse('2026-03-02T00:00:00Z') + DAY).toISOString() });
    expect(() => assertNotPaused(paused, new Date('2026-03-02T00:00:00Z'))).toThrow(CasePausedError);
    expect(() => assertNotPaused(paused, new Date('2026-03-04T00:00:00Z'))).not.toThrow();
    expect(pausedUntil({ ...paused, status: 'recovered' }, new Date('2026-03-02T00:00:00Z'))).toBeUndefined();
  });
});

describe('compressedCaseClock', () => {
  const c = aCase({ createdAt: '2026-03-01T00:00:00.000Z', failedAt: '2026-04-01T12:00:00.000Z' });

  it('reads the moment the case was created as its failure, and a policy day of wall time as a day', () => {
    const clock = compressedCaseClock(c, 2000, 'clock_1');
    expect(clock.show(new Date('2026-03-01T00:00:00.000Z')).toISOString()).toBe('2026-04-01T12:00:00.000Z');
    expect(clock.show(new Date('2026-03-01T00:00:06.000Z')).toISOString()).toBe('2026-04-04T12:00:00.000Z');
    expect(clock.store(new Date('2026-04-04T12:00:00.000Z')).toISOString()).toBe('2026-03-01T00:00:06.000Z');
  });

  it('names the test clock when the customer has one, and says the day length either way', () => {
    expect(compressedCaseClock(c, 2000, 'clock_1')).toMatchObject({ name: 'test clock', description: 'the test clock of the case (clock_1), one policy day per 2000 ms here' });
    expect(compressedCaseClock(c, 2000)).toMatchObject({ name: 'policy time' });
  });

  it('leaves every time as stored on the wall clock, as in AWS, and says nothing about it', () => {
    const at = new Date('2026-03-01T00:00:06.000Z');
    expect(WALL_CLOCK.show(at)).toBe(at);
    expect(WALL_CLOCK.store(at)).toBe(at);
    expect(WALL_CLOCK.description).toBeUndefined();
  });
});
