// When a `retries: "workflow"` retry charges: inside the customer's business hours, on a payday for
// short funds, after the back-off, inside the card network's cap, and never after the end.
// Wall clocks are read here with Intl directly, not with the calendar module under test.
import { describe, expect, it } from 'vitest';
import type { Policy } from '#shared/policy/schema.ts';
import { customerZones, type CustomerZones } from '#shared/retries/calendar.ts';
import { classifyFailure } from '#shared/retries/classify.ts';
import { backoffUntil, capAllowsFrom, decideAtWake, describeDecision, planRetry, type ChargeAttempt, type PlanInput, type RetryBounds } from '#shared/retries/plan.ts';
import { policySteps, retryBounds, simulateSequence } from '#shared/retries/schedule.ts';
import { defaultPolicy, policyWith } from '../fixtures/policies.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const FUNDS = { code: 'card_declined', declineCode: 'insufficient_funds' };
const GENERIC = { code: 'card_declined', declineCode: 'generic_decline' };
const LATER = { code: 'card_declined', declineCode: 'generic_decline', adviceCode: 'try_again_later' };
const PROCESSING = { code: 'processing_error' };
const mastercardAdvice = (advice: string) => ({ code: 'card_declined', declineCode: 'generic_decline', networkAdviceCode: advice, cardBrand: 'mastercard' });

const policy = defaultPolicy();
const CARD = { id: 'pm_visa', brand: 'visa' };

function decline(at: Date | string, failure: object, extra: Partial<ChargeAttempt> = {}): ChargeAttempt {
  return { at: new Date(at).toISOString(), by: 'stripe', outcome: 'declined', card: CARD.id, brand: CARD.brand, failure: classifyFailure(failure), ...extra };
}

function zoned(timeZone: string, window = policy.retryTiming.window): CustomerZones {
  return customerZones({ timeZone, policyZone: 'UTC', window });
}

/** The wall clock in `zone`, read with Intl. */
function wallClock(at: Date, zone: string): { weekday: string; minutes: number; date: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { weekday: parts.weekday!, minutes: Number(parts.hour) * 60 + Number(parts.minute), date: `${parts.year}-${parts.month}-${parts.day}` };
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'];
function inBusinessHours(at: Date, zone: string, start = 9 * 60, end = 18 * 60, days = WEEKDAYS): boolean {
  const clock = wallClock(at, zone);
  return days.includes(clock.weekday) && clock.minutes >= start && clock.minutes < end;
}

/** `count` failure moments `stepHours` apart: a step prime to 24 walks every hour of every weekday. */
function moments(from: string, count: number, stepHours = 7): Date[] {
  return Array.from({ length: count }, (_, i) => new Date(Date.parse(from) + i * stepHours * HOUR));
}

function planStage(p: Policy, retryId: string, failedAt: Date, failure: object, zones: CustomerZones) {
  return planRetry({ timing: p.retryTiming, zones, now: failedAt, bounds: retryBounds(p, retryId, failedAt), card: CARD, attempts: [decline(failedAt, failure)] });
}

const RETRIES = policySteps(policy).filter((s) => s.kind === 'retry').map((s) => s.id);

/** Every retry of the policy for each failure moment. */
function planAll(p: Policy, failures: Date[], failure: object, zones: CustomerZones) {
  return failures.flatMap((failedAt) => RETRIES.map((id) => planStage(p, id, failedAt, failure, zones)));
}

function wideBounds(nominal: string, latest: string, latestIs = 'Notice2'): RetryBounds {
  return { nominal: new Date(nominal), earliest: new Date(nominal), latest: new Date(latest), latestIs };
}

describe('the business-hours window and the customer time zone', () => {
  it.each([
    ['Europe/Paris', 'insufficient_funds', FUNDS],
    ['Europe/Paris', 'generic_decline', GENERIC],
    ['America/New_York', 'insufficient_funds', FUNDS],
    ['America/New_York', 'generic_decline', GENERIC],
    ['Asia/Tokyo', 'insufficient_funds', FUNDS],
    ['Asia/Tokyo', 'generic_decline', GENERIC],
  ])('in %s, every retry of a %s lands 09:00–18:00 local, Monday to Friday, or is skipped for want of one', (zone, _code, failure) => {
    const decisions = planAll(policy, moments('2026-11-02T00:00Z', 48), failure, zoned(zone));
    const planned = decisions.flatMap((d) => (d.kind === 'retry' ? [d.at] : []));

    expect(planned.length).toBeGreaterThan(decisions.length / 2);
    for (const at of planned) expect(inBusinessHours(at, zone), `${at.toISOString()} in ${zone}`).toBe(true);
    for (const d of decisions) if (d.kind === 'skip') expect(d.reasonClass).toBe('no_window');
  });

  it('takes the customer zone over the country, and the country over the policy zone', () => {
    const window = policy.retryTiming.window;

    expect(customerZones({ timeZone: 'Asia/Tokyo', country: 'FR', policyZone: 'UTC', window })).toMatchObject({ zones: ['Asia/Tokyo'], source: 'customer' });
    expect(customerZones({ country: 'FR', policyZone: 'Asia/Tokyo', window })).toMatchObject({ zones: ['Europe/Paris'], source: 'country' });
    expect(customerZones({ policyZone: 'Asia/Tokyo', window })).toMatchObject({ zones: ['Asia/Tokyo'], source: 'policy' });
  });

  it("plans a Japanese customer's retry in Tokyo's business hours, not the Paris policy zone's", () => {
    const zones = customerZones({ country: 'JP', policyZone: 'Europe/Paris', window: policy.retryTiming.window });
    const failedAt = new Date('2026-12-01T03:00+01:00'); // 11:00 in Tokyo

    const decision = planStage(policy, 'Retry1', failedAt, GENERIC, zones);

    expect(decision.kind).toBe('retry');
    if (decision.kind !== 'retry') return;
    expect(inBusinessHours(decision.at, 'Asia/Tokyo')).toBe(true);
    expect(inBusinessHours(decision.at, 'Europe/Paris')).toBe(false);
  });

  it('plans a US customer (country only) when it is business hours on both coasts', () => {
    const zones = customerZones({ country: 'US', policyZone: 'UTC', window: policy.retryTiming.window });
    const planned = planAll(policy, moments('2026-06-01T00:00Z', 30), GENERIC, zones).flatMap((d) => (d.kind === 'retry' ? [d.at] : []));

    expect(planned.length).toBeGreaterThan(0);
    for (const at of planned) {
      expect(inBusinessHours(at, 'America/New_York'), at.toISOString()).toBe(true);
      expect(inBusinessHours(at, 'America/Los_Angeles'), at.toISOString()).toBe(true);
    }
  });

  it('obeys a custom window: 10:00–16:00 on weekends only', () => {
    const custom = policyWith((p) => {
      p.retryTiming = { window: { start: '10:00', end: '16:00', days: ['sat', 'sun'] } };
    });
    const zones = zoned('Europe/Paris', custom.retryTiming.window);
    const plan = (nominal: Date) =>
      planRetry({ timing: custom.retryTiming, zones, now: nominal, bounds: { nominal, earliest: nominal, latest: new Date(nominal.getTime() + 7 * DAY), latestIs: 'Notice2' }, card: CARD, attempts: [decline(nominal, GENERIC)] });

    expect(plan(new Date('2026-12-02T12:00+01:00'))).toMatchObject({ kind: 'retry', at: new Date('2026-12-05T10:00+01:00') });
    for (const nominal of moments('2026-12-01T00:00Z', 40)) {
      const decision = plan(nominal);
      expect(decision.kind).toBe('retry');
      if (decision.kind === 'retry') expect(inBusinessHours(decision.at, 'Europe/Paris', 10 * 60, 16 * 60, ['Sat', 'Sun']), decision.at.toISOString()).toBe(true);
    }
  });

  it.each([
    ['the spring change (29 March)', '2026-03-15T00:00Z'],
    ['the autumn change (25 October)', '2026-10-11T00:00Z'],
  ])('keeps Paris retries inside the window across %s', (_change, from) => {
    for (const failure of [FUNDS, GENERIC, LATER]) {
      const planned = planAll(policy, moments(from, 60, 5), failure, zoned('Europe/Paris')).flatMap((d) => (d.kind === 'retry' ? [d.at] : []));

      expect(planned.length).toBeGreaterThan(0);
      for (const at of planned) expect(inBusinessHours(at, 'Europe/Paris'), at.toISOString()).toBe(true);
    }
  });
});

describe('paydays for short funds', () => {
  const paris = zoned('Europe/Paris');
  const planFunds = (bounds: RetryBounds, timing = policy.retryTiming) =>
    planRetry({ timing, zones: paris, now: bounds.earliest, bounds, card: CARD, attempts: [decline(new Date(bounds.earliest.getTime() - 3 * DAY), FUNDS)] });

  it.each([
    ['the 15th', '2026-12-10T12:00+01:00', '2026-12-17T12:00+01:00', '2026-12-15T09:00+01:00'],
    // 30 November is a payday too (the last business day), but the window has closed on it.
    ['the 1st', '2026-11-30T18:30+01:00', '2026-12-04T12:00+01:00', '2026-12-01T09:00+01:00'],
    ['the last business day', '2026-10-27T12:00+01:00', '2026-11-04T12:00+01:00', '2026-10-30T09:00+01:00'],
  ])('aims at %s when the bounds hold it, and says so', (payday, nominal, latest, expected) => {
    const decision = planFunds(wideBounds(nominal, latest));

    expect(decision).toMatchObject({ kind: 'retry', at: new Date(expected), reasonClass: 'payday' });
    expect(decision.kind === 'retry' && decision.reason).toContain(`next payday (${payday})`);
  });

  it('aims at a custom payday (the 25th) that the defaults would pass over', () => {
    const bounds = wideBounds('2026-11-20T12:00+01:00', '2026-11-28T12:00+01:00');
    const custom = policyWith((p) => {
      p.retryTiming = { paydays: { daysOfMonth: [25], lastBusinessDay: false } };
    });

    expect(planFunds(bounds, custom.retryTiming)).toMatchObject({ kind: 'retry', at: new Date('2026-11-25T09:00+01:00') });
    expect(planFunds(bounds)).toMatchObject({ kind: 'retry', at: bounds.nominal });
  });

  it('falls back to the policy day when no payday lies in the bounds, saying "no payday"', () => {
    const decision = planFunds(wideBounds('2026-12-03T12:00+01:00', '2026-12-10T12:00+01:00'));

    expect(decision).toMatchObject({ kind: 'retry', at: new Date('2026-12-03T12:00+01:00') });
    expect(decision.kind === 'retry' && decision.reason).toContain('no payday before Notice2');
  });

  it('describes the decision in the customer zone', () => {
    const decision = planFunds(wideBounds('2026-12-10T12:00+01:00', '2026-12-17T12:00+01:00'));

    expect(describeDecision(decision, paris)).toBe('retry scheduled 2026-12-15T09:00+01:00 (Europe/Paris): insufficient_funds; next payday (the 15th) inside business hours');
  });
});

describe('back-off after try-again-later and processing errors', () => {
  const paris = zoned('Europe/Paris');
  const T0 = new Date('2026-11-02T10:00+01:00'); // a Monday
  const bounds = wideBounds(T0.toISOString(), new Date(T0.getTime() + 20 * DAY).toISOString());
  const plan = (attempts: ChargeAttempt[], timing = policy.retryTiming, b = bounds) => planRetry({ timing, zones: paris, now: T0, bounds: b, card: CARD, attempts });
  /** Declines `gapHours` apart from T0. */
  const run = (failures: object[], gapHours = 1) => failures.map((f, i) => decline(new Date(T0.getTime() + i * gapHours * HOUR), f, { by: i === 0 ? 'stripe' : 'workflow' }));

  it.each([
    ['try_again_later', LATER],
    ['a processing error', PROCESSING],
  ])('waits firstHours after one %s, then twice as long after each further one in a row', (_what, failure) => {
    for (const [count, hours, words] of [[1, 24, '24 hours'], [2, 48, '2 days'], [3, 96, '4 days']] as const) {
      const attempts = run(Array.from({ length: count }, () => failure));
      const lastAt = Date.parse(attempts.at(-1)!.at);

      const decision = plan(attempts);

      expect(backoffUntil(attempts, policy.retryTiming)?.hours).toBe(hours);
      expect(decision.kind).toBe('retry');
      if (decision.kind !== 'retry') return;
      expect(decision.at.getTime() - lastAt).toBeGreaterThanOrEqual(hours * HOUR);
      expect(decision.reason).toContain(`backing off ${words}`);
    }
  });

  it('applies custom back-off knobs (6 hours, ×3)', () => {
    const custom = policyWith((p) => {
      p.retryTiming = { backoff: { firstHours: 6, multiplier: 3 } };
    });

    expect([1, 2, 3].map((n) => backoffUntil(run(Array.from({ length: n }, () => LATER)), custom.retryTiming)?.hours)).toEqual([6, 18, 54]);
  });

  it('counts only the latest unbroken run: another kind of decline in between starts it again', () => {
    expect(backoffUntil(run([LATER, GENERIC, LATER]), policy.retryTiming)?.hours).toBe(24);
    expect(backoffUntil(run([LATER, GENERIC]), policy.retryTiming)).toBeUndefined();
  });

  it.each([
    ['24', 1],
    ['25', 24],
    ['27', 96],
    ['30', 240],
  ])('waits at least the %s advice hours Mastercard names (%d)', (advice, hours) => {
    const decision = plan([decline(T0, mastercardAdvice(advice), { brand: 'mastercard' })]);

    expect(decision).toMatchObject({ kind: 'retry', reasonClass: 'after' });
    if (decision.kind === 'retry') expect(decision.at.getTime() - T0.getTime()).toBeGreaterThanOrEqual(hours * HOUR);
  });

  it("pushes the retry past the policy's moment when the wait ends later", () => {
    const nominal = new Date(T0.getTime() + 3 * HOUR);

    const decision = plan([decline(T0, LATER)], policy.retryTiming, { ...bounds, nominal, earliest: nominal });

    expect(decision).toMatchObject({ kind: 'retry', at: new Date(T0.getTime() + 24 * HOUR) });
  });

  it.each([
    ['a run of try_again_later', run([LATER, LATER, LATER]), 'backing off 4 days', 'backoff'],
    ['Mastercard advice 27', [decline(T0, mastercardAdvice('27'), { brand: 'mastercard' })], 'the network asked for 4 days', 'after'],
  ])('skips, saying it waited, when %s ends after the latest moment', (_what, attempts, words, reasonClass) => {
    const short = wideBounds(new Date(T0.getTime() + DAY).toISOString(), new Date(T0.getTime() + 2 * DAY).toISOString());

    const decision = plan(attempts, policy.retryTiming, short);

    expect(decision).toMatchObject({ kind: 'skip', reasonClass });
    expect(decision.kind === 'skip' && decision.reason).toContain(words);
    expect(decision.kind === 'skip' && decision.reason).toContain('Notice2');
  });
});

describe('the card networks’ retry caps', () => {
  const paris = zoned('Europe/Paris');
  const T0 = new Date('2026-11-02T10:00+01:00');
  const BY = ['stripe', 'workflow', 'card_update'] as const;
  /** `count` declines of a card 36 hours apart, by everyone who charges it. */
  const declines = (count: number, card = CARD, failure: object = GENERIC) =>
    Array.from({ length: count }, (_, i) => decline(new Date(T0.getTime() + i * 36 * HOUR), failure, { by: BY[i % 3]!, card: card.id, brand: card.brand }));
  const plan = (attempts: ChargeAttempt[], nominal: Date, latest: Date, card = CARD, timing = policy.retryTiming) =>
    planRetry({ timing, zones: paris, now: nominal, bounds: { nominal, earliest: nominal, latest, latestIs: 'the end' }, card, attempts });

  it('leaves no reattempt after the first decline and 15 reattempts in 30 days, until the oldest ages out', () => {
    const attempts = declines(16);
    const after = new Date(Date.parse(attempts.at(-1)!.at) + DAY);
    const agesOut = T0.getTime() + 30 * DAY;

    expect(capAllowsFrom(attempts, { reattempts: 15, days: 30 }, after)?.getTime()).toBe(agesOut + 1);
    expect(plan(attempts, after, new Date(agesOut - HOUR))).toMatchObject({ kind: 'skip', reasonClass: 'cap' });
    const later = plan(attempts, after, new Date(agesOut + 10 * DAY));
    expect(later.kind).toBe('retry');
    if (later.kind !== 'retry') return;
    expect(later.at.getTime()).toBeGreaterThan(agesOut);
    expect(later.reason).toContain('held to the visa cap of 15 in 30 days');
  });

  it('still allows the 15th reattempt after fifteen declines (the first and 14 reattempts)', () => {
    const attempts = declines(15);
    const after = new Date(Date.parse(attempts.at(-1)!.at) + DAY);

    expect(capAllowsFrom(attempts, { reattempts: 15, days: 30 }, after)).toEqual(after);
  });

  it('does not count the declines of another card', () => {
    const oldCard = { id: 'pm_old', brand: 'visa' };
    const attempts = declines(16, oldCard);
    const nominal = new Date('2026-11-26T10:00+01:00');

    expect(plan(attempts, nominal, new Date(nominal.getTime() + DAY))).toMatchObject({ kind: 'retry', at: nominal });
  });

  it('skips when the brand allows no reattempt at all', () => {
    const none = policyWith((p) => {
      p.retryTiming = { caps: { visa: { reattempts: 0, days: 30 } } };
    });
    const nominal = new Date(T0.getTime() + 3 * DAY);

    expect(plan(declines(1), nominal, new Date(nominal.getTime() + 10 * DAY), CARD, none.retryTiming)).toMatchObject({ kind: 'skip', reasonClass: 'cap' });
  });

  it('applies a custom cap to its brand only', () => {
    const custom = policyWith((p) => {
      p.retryTiming = { caps: { mastercard: { reattempts: 2, days: 7 } } };
    });
    const mastercard = { id: 'pm_mc', brand: 'mastercard' };
    const nominal = new Date(T0.getTime() + 4 * DAY);
    const latest = new Date(T0.getTime() + 20 * DAY);

    const held = plan(declines(3, mastercard), nominal, latest, mastercard, custom.retryTiming);
    const visa = plan(declines(3), nominal, latest, CARD, custom.retryTiming);

    expect(held.kind === 'retry' && held.at.getTime()).toBeGreaterThan(T0.getTime() + 7 * DAY);
    expect(visa).toMatchObject({ kind: 'retry', at: nominal });
  });
});

describe('never after the end', () => {
  const paris = zoned('Europe/Paris');
  const endOf = (failedAt: Date) => new Date(failedAt.getTime() + policy.end.day * DAY);

  it.each(['2026-12-01T09:20+01:00', '2026-12-02T12:00+01:00', '2026-12-03T17:40+01:00', '2026-12-04T15:07+01:00'])(
    'runs the last retry before an end in business hours, on the end’s local day (failure %s)',
    (failed) => {
      const failedAt = new Date(failed);
      for (const failure of [GENERIC, PROCESSING]) {
        const decision = planStage(policy, 'Retry3', failedAt, failure, paris);

        expect(decision.kind).toBe('retry');
        if (decision.kind !== 'retry') return;
        expect(decision.at.getTime()).toBeLessThan(endOf(failedAt).getTime());
        expect(wallClock(decision.at, 'Europe/Paris').date).toBe(wallClock(endOf(failedAt), 'Europe/Paris').date);
      }
    },
  );

  it('lets a payday between the stage before it and the end take short funds there instead', () => {
    // Notice3 on the 9th, the end on the 16th at noon: the 15th is a payday, first thing in the window.
    const decision = planStage(policy, 'Retry3', new Date('2026-12-02T12:00+01:00'), FUNDS, paris);

    expect(decision).toMatchObject({ kind: 'retry', at: new Date('2026-12-15T09:00+01:00'), reasonClass: 'payday' });
  });

  it('runs it in the last business hours before an end at 07:00 local', () => {
    const decision = planStage(policy, 'Retry3', new Date('2026-12-01T07:00+01:00'), GENERIC, paris);

    expect(decision).toMatchObject({ kind: 'retry', at: new Date('2026-12-14T17:00+01:00') });
    expect(decision.kind === 'retry' && decision.reason).toContain('the last business hours before the end');
  });

  it('never simulates a retry after the end, whatever the failure and the hour', () => {
    for (const failure of [GENERIC, FUNDS, LATER, PROCESSING, mastercardAdvice('27')]) {
      for (const failedAt of moments('2026-11-02T00:00Z', 24)) {
        const { steps } = simulateSequence({ policy, zones: paris, failedAt, failure: classifyFailure(failure), card: CARD });

        for (const step of steps.filter((s) => s.kind === 'retry')) expect(Date.parse(step.at), step.at).toBeLessThan(endOf(failedAt).getTime());
        expect(steps.at(-1)).toMatchObject({ kind: 'end', stage: 'Terminate' });
      }
    }
  });

  it('keeps a retry on the end day before the end, even when a notice follows it that day', () => {
    const lastDay = policyWith((p) => {
      const [notice1, , notice2] = p.stages;
      p.stages = [notice1!, { id: 'Retry1', type: 'retry', day: 14 }, { ...notice2!, day: 14 }];
    });
    const failures = moments('2026-11-02T00:00Z', 24);
    const planned = failures.map((failedAt) => [failedAt, planStage(lastDay, 'Retry1', failedAt, GENERIC, paris)] as const);

    expect(planned.filter(([, d]) => d.kind === 'retry').length).toBeGreaterThan(failures.length / 2);
    for (const [failedAt, d] of planned) if (d.kind === 'retry') expect(d.at.getTime(), d.at.toISOString()).toBeLessThan(endOf(failedAt).getTime());
  });

  it('keeps a retry followed by a same-day notice no later than that policy day, and after the stage before it', () => {
    const sameDay = policyWith((p) => {
      const [notice1, , notice2] = p.stages;
      p.stages = [notice1!, { id: 'Retry1', type: 'retry', day: 5 }, { ...notice2!, day: 5 }, { id: 'Retry2', type: 'retry', day: 9 }];
      p.end.day = 12;
    });
    for (const failure of [GENERIC, FUNDS, LATER]) {
      for (const failedAt of moments('2026-11-02T00:00Z', 24)) {
        const { steps } = simulateSequence({ policy: sameDay, zones: paris, failedAt, failure: classifyFailure(failure), card: CARD });
        const dayStart = failedAt.getTime() + 5 * DAY;

        for (const step of steps.filter((s) => s.stage === 'Notice2')) {
          expect(Date.parse(step.at), `${step.stage} ${step.at}`).toBeGreaterThanOrEqual(dayStart);
          expect(Date.parse(step.at), `${step.stage} ${step.at}`).toBeLessThan(dayStart + DAY);
        }
        for (const step of steps.filter((s) => s.stage === 'Retry1')) {
          expect(Date.parse(step.at), `${step.stage} ${step.at}`).toBeGreaterThanOrEqual(failedAt.getTime());
          expect(Date.parse(step.at), `${step.stage} ${step.at}`).toBeLessThan(dayStart + DAY);
        }
      }
    }
  });
});

describe('simulateSequence', () => {
  const paris = zoned('Europe/Paris');
  const simulate = (failedAt: Date, failure: object) => simulateSequence({ policy, zones: paris, failedAt, failure: classifyFailure(failure), card: CARD });

  it('places every insufficient_funds retry inside the Paris window', () => {
    for (const failedAt of moments('2026-11-02T00:00Z', 24)) {
      const retries = simulate(failedAt, FUNDS).steps.filter((s) => s.kind === 'retry');

      expect(retries.length).toBeGreaterThan(0);
      for (const step of retries) expect(inBusinessHours(new Date(step.at), 'Europe/Paris'), step.at).toBe(true);
    }
  });

  it('has no retry at all after Mastercard advice 03, and lists each as skipped', () => {
    const { steps, skipped } = simulate(new Date('2026-12-01T10:00+01:00'), mastercardAdvice('03'));

    expect(steps.filter((s) => s.kind === 'retry')).toEqual([]);
    expect(skipped.map((s) => s.stage)).toEqual(RETRIES);
    for (const s of skipped) expect(s.reason).toContain('Mastercard advice 03');
  });

  it('keeps each notice on its policy day', () => {
    const days = new Map(policySteps(policy).map((s) => [s.id, s.day]));
    for (const failure of [FUNDS, GENERIC, LATER, PROCESSING]) {
      for (const failedAt of moments('2026-11-02T00:00Z', 24)) {
        for (const step of simulate(failedAt, failure).steps.filter((s) => s.kind === 'notice')) {
          const dayStart = failedAt.getTime() + days.get(step.stage)! * DAY;

          expect(Date.parse(step.at), `${step.stage} ${step.at}`).toBeGreaterThanOrEqual(dayStart);
          expect(Date.parse(step.at), `${step.stage} ${step.at}`).toBeLessThan(dayStart + DAY);
        }
      }
    }
  });
});

describe('decideAtWake', () => {
  const paris = zoned('Europe/Paris');
  const failedAt = new Date('2026-11-02T10:00+01:00'); // a Monday
  const nominal = new Date('2026-11-05T10:00+01:00'); // the Thursday
  const input = (now: Date, attempts = [decline(failedAt, GENERIC)]): PlanInput => ({
    timing: policy.retryTiming,
    zones: paris,
    now,
    bounds: { nominal, earliest: nominal, latest: new Date(nominal.getTime() + 3 * DAY), latestIs: 'Notice2' },
    card: CARD,
    attempts,
  });
  const planned = planRetry(input(failedAt));

  it('charges when woken at the planned moment', () => {
    expect(planned).toMatchObject({ kind: 'retry', at: nominal });

    expect(decideAtWake(input(nominal))).toMatchObject({ due: true, at: nominal });
  });

  it('does not charge when woken a day early', () => {
    const decision = decideAtWake(input(new Date(nominal.getTime() - DAY)));

    expect(decision).toMatchObject({ kind: 'retry', at: nominal });
    expect(decision.due).toBeUndefined();
  });

  it('still charges on a late start while the window is open', () => {
    const late = new Date(nominal.getTime() + 2 * HOUR + 7 * 60_000);

    expect(decideAtWake(input(late))).toMatchObject({ due: true, at: late });
  });

  it('waits for the next window when the late start finds it closed', () => {
    const decision = decideAtWake(input(new Date('2026-11-05T18:30+01:00')));

    expect(decision).toMatchObject({ kind: 'retry', at: new Date('2026-11-06T09:00+01:00') });
    expect(decision.due).toBeUndefined();
  });

  it('does not charge when a try_again_later decline came in since the plan: it backs off from that', () => {
    const since = new Date(nominal.getTime() - 2 * HOUR);

    const decision = decideAtWake(input(nominal, [decline(failedAt, GENERIC), decline(since, LATER)]));

    expect(decision.due).toBeUndefined();
    expect(decision.kind === 'retry' && decision.at.getTime()).toBeGreaterThanOrEqual(since.getTime() + 24 * HOUR);
  });
});
