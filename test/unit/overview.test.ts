// The numbers the console's charts and `dunning report --html` draw: where in the funnel the
// recovered cases paid, the endings day by day, the open cases by stage, and a case's timeline as
// points on a time axis with the waits between its stages.
import { describe, expect, it } from 'vitest';
import type { DunningCase, TimelineEntry } from '#shared/domain/case.ts';
import { caseTimelineSeries, recoveryOverview } from '#shared/dunning/overview.ts';
import { recoveryReport } from '#shared/dunning/report.ts';
import { singlePolicySet } from '#shared/policy/segments.ts';
import { defaultPolicy } from '../fixtures/policies.ts';

const NOW = new Date('2026-03-20T12:00:00.000Z');
const policies = singlePolicySet(defaultPolicy());

let n = 0;
function aCase(status: DunningCase['status'], noticesSent: string[], extra: Partial<DunningCase> = {}): DunningCase {
  n += 1;
  return {
    invoiceId: `in_${n}`,
    customerId: `cus_${n}`,
    subscriptionId: `sub_${n}`,
    status,
    amountDue: { amount: 1500, currency: 'gbp' },
    livemode: false,
    failedAt: '2026-03-01T09:00:00.000Z',
    terminatesAt: '2026-03-15T09:00:00.000Z',
    executionName: `in_${n}`,
    noticesSent,
    createdAt: '2026-03-01T09:00:00.000Z',
    updatedAt: '2026-03-01T09:00:00.000Z',
    ...extra,
  };
}

describe('recoveryOverview', () => {
  const cases = [
    // Paid before Notice1 went out (Stripe's own retry within the hour).
    aCase('recovered', [], { closedAt: '2026-03-01T10:00:00.000Z' }),
    // Paid after Notice2: the confirmation's and Stripe's claims are not notice stages.
    aCase('recovered', ['Notice1', 'Notice2', 'Recovered', 'StripeAttempt2'], { closedAt: '2026-03-04T23:59:59.000Z', amountDue: { amount: 2000, currency: 'gbp' } }),
    aCase('recovered', ['Notice1', 'Notice2'], { closedAt: '2026-03-05T00:00:01.000Z', amountDue: { amount: 1000, currency: 'eur' } }),
    // No closedAt (written before it existed): its last update is when it ended.
    aCase('recovered', ['Notice1'], { updatedAt: '2026-03-05T08:00:00.000Z' }),
    aCase('terminated', ['Notice1', 'Notice2', 'Notice3', 'Terminate'], { closedAt: '2026-03-05T09:00:00.000Z' }),
    aCase('open', ['Notice1', 'Notice2'], { stage: 'Retry2' }),
    aCase('open', ['Notice1'], { stage: 'Notice1', pausedUntil: '2026-03-25T00:00:00.000Z' }),
    aCase('closed', ['Notice1'], { closedAt: '2026-03-02T00:00:00.000Z' }),
  ];

  it('counts each recovered case at the last notice stage it reached, or at opened before the first notice', () => {
    const overview = recoveryOverview(policies, cases, NOW);

    expect(overview.funnel.steps).toEqual([
      { step: 'opened', reached: 8, recovered: 1 },
      { step: 'Notice1', reached: 7, recovered: 1 },
      { step: 'Notice2', reached: 4, recovered: 2 },
      { step: 'Notice3', reached: 1, recovered: 0 },
    ]);
    expect(overview.funnel.terminated).toBe(1);
  });

  it('agrees with the report it is drawn from: the recovered at each step add up to every recovered case', () => {
    const overview = recoveryOverview(policies, cases, NOW);
    const report = recoveryReport(policies, cases);

    expect(overview.report).toEqual(report);
    expect(overview.funnel.steps.map((s) => s.reached)).toEqual([report.opened, ...report.reachedStage.map((s) => s.cases)]);
    expect(overview.funnel.steps.reduce((sum, s) => sum + s.recovered, 0)).toBe(report.byStatus.recovered);
  });

  it('puts each ending on the UTC day it ended, with that day\'s rate and revenue per currency in minor units', () => {
    const { daily } = recoveryOverview(policies, cases, NOW);

    expect(daily).toEqual([
      { day: '2026-03-01', recovered: 1, terminated: 0, recoveryRate: 1, recoveredRevenue: [{ currency: 'GBP', amount: 1500 }] },
      { day: '2026-03-04', recovered: 1, terminated: 0, recoveryRate: 1, recoveredRevenue: [{ currency: 'GBP', amount: 2000 }] },
      {
        day: '2026-03-05',
        recovered: 2,
        terminated: 1,
        recoveryRate: 2 / 3,
        recoveredRevenue: [{ currency: 'EUR', amount: 1000 }, { currency: 'GBP', amount: 1500 }],
      },
    ]);
  });

  it('counts the open cases by stage as the OpenCases gauge does, paused ones too', () => {
    const { openCases } = recoveryOverview(policies, cases, NOW);

    expect(openCases.total).toBe(2);
    expect(openCases.paused).toBe(1);
    expect(openCases.byStage.filter((s) => s.cases > 0)).toEqual([{ stage: 'Notice1', cases: 1 }, { stage: 'Retry2', cases: 1 }]);
    expect(openCases.byStage.map((s) => s.stage)).toContain('Notice3');
  });

  it('keeps only the cases opened since the given date, in every part', () => {
    const late = aCase('recovered', ['Notice1'], { createdAt: '2026-03-10T00:00:00.000Z', closedAt: '2026-03-11T00:00:00.000Z' });

    const overview = recoveryOverview(policies, [...cases, late], NOW, new Date('2026-03-09T00:00:00.000Z'));

    expect(overview.funnel.steps[0]).toEqual({ step: 'opened', reached: 1, recovered: 0 });
    expect(overview.funnel.steps[1]).toEqual({ step: 'Notice1', reached: 1, recovered: 1 });
    expect(overview.daily.map((d) => d.day)).toEqual(['2026-03-11']);
    expect(overview.openCases.total).toBe(0);
  });

  it("gives each currency's decimal places as Stripe counts them", () => {
    const yen = aCase('recovered', [], { amountDue: { amount: 1500, currency: 'jpy' } });

    expect(recoveryOverview(policies, [...cases, yen], NOW).currencyExponents).toEqual({ EUR: 2, GBP: 2, JPY: 0 });
  });

  it('has an empty funnel and no days when there are no cases', () => {
    const overview = recoveryOverview(policies, [], NOW);

    expect(overview.funnel.steps.every((s) => s.reached === 0 && s.recovered === 0)).toBe(true);
    expect(overview.daily).toEqual([]);
    expect(overview.generatedAt).toBe(NOW.toISOString());
  });
});

describe('caseTimelineSeries', () => {
  const at = (minutes: number) => new Date(Date.UTC(2026, 2, 1, 9, minutes)).toISOString();
  const timeline: TimelineEntry[] = [
    { at: at(0), type: 'case_opened' },
    { at: at(0), type: 'notice_sent', stage: 'Notice1', detail: "We couldn't take your payment", messageId: 'm1' },
    { at: at(10), type: 'stripe_attempt_failed', detail: 'in_1 attempt 2' },
    { at: at(30), type: 'retry_declined', stage: 'Retry1', detail: 'insufficient_funds' },
    { at: at(30), type: 'notice_sent', stage: 'Notice2', detail: 'Act now', messageId: 'm2' },
    { at: at(50), type: 'retry_skipped', stage: 'Retry2', detail: 'same card, card_declined' },
    // Written out of order (two writers): the series is in time order all the same.
    { at: at(90), type: 'retry_paid', stage: 'Retry3' },
    { at: at(90), type: 'recovered', detail: 'workflow_retry' },
    { at: at(91), type: 'confirmation_sent', stage: 'Recovered', detail: 'Thank you' },
    { at: at(60), type: 'notice_undeliverable', stage: 'Notice3', detail: 'suppressed' },
  ];

  it('gives each entry its kind and outcome: notices, retries (Stripe\'s own too), the end and the rest', () => {
    const points = caseTimelineSeries(timeline).filter((p) => p.kind !== 'wait');

    expect(points.map((p) => [p.kind, p.outcome, p.label])).toEqual([
      ['other', undefined, 'case_opened'],
      ['notice', 'sent', "Notice1: We couldn't take your payment"],
      ['retry', 'declined', "Stripe's attempt: in_1 attempt 2"],
      ['retry', 'declined', 'Retry1: insufficient_funds'],
      ['notice', 'sent', 'Notice2: Act now'],
      ['retry', 'skipped', 'Retry2: same card, card_declined'],
      ['notice', 'undeliverable', 'Notice3: suppressed'],
      ['retry', 'paid', 'Retry3'],
      ['end', 'recovered', 'workflow_retry'],
      ['notice', 'sent', 'Recovered: Thank you'],
    ]);
  });

  it('derives a wait for each gap between one stage and the next, and none within a stage or at the same instant', () => {
    const waits = caseTimelineSeries(timeline).filter((p) => p.kind === 'wait');

    expect(waits).toEqual([
      { kind: 'wait', at: at(0), until: at(30), label: 'waiting for Retry1' },
      { kind: 'wait', at: at(30), until: at(50), label: 'waiting for Retry2' },
      { kind: 'wait', at: at(50), until: at(60), label: 'waiting for Notice3' },
      { kind: 'wait', at: at(60), until: at(90), label: 'waiting for Retry3' },
    ]);
  });

  it('is empty for an empty timeline', () => {
    expect(caseTimelineSeries([])).toEqual([]);
  });
});
