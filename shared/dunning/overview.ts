// The recovery overview the console draws and `dunning report --html` writes: the funnel with where
// the recovered cases paid, the endings day by day, the open cases by stage, and one case's timeline
// as points on a time axis. Pure: cases and timelines in, numbers out; the charts are elsewhere.
import type { DunningCase, TimelineEntry } from '../domain/case.ts';
import { stripeExponent } from '../domain/format.ts';
import type { PolicySet } from '../policy/segments.ts';
import { countOpenCases, type OpenCasesCount } from './open-cases.ts';
import { recoveryReport, type RecoveryReport } from './report.ts';

export interface FunnelStep {
  /** `opened`, then each notice stage id in policy order. */
  step: string;
  /** Cases that got this far: all of them at `opened`, those whose notice was sent at a stage. */
  reached: number;
  /** Recovered cases whose last step before paying was this one (`opened`: before the first notice). */
  recovered: number;
}

export interface DailyEndings {
  /** The UTC day (YYYY-MM-DD) the cases ended on. */
  day: string;
  recovered: number;
  terminated: number;
  /** recovered ÷ (recovered + terminated) of that day's endings. */
  recoveryRate: number;
  /** Revenue recovered that day per currency (upper case), in minor units. */
  recoveredRevenue: Array<{ currency: string; amount: number }>;
}

export interface RecoveryOverview {
  generatedAt: string;
  /** The report it is drawn from: the totals `dunning report` prints. */
  report: RecoveryReport;
  funnel: { steps: FunnelStep[]; terminated: number };
  /** Days on which a case recovered or terminated, oldest first; days with no ending are absent. */
  daily: DailyEndings[];
  openCases: OpenCasesCount;
  /** Stripe's decimal places of each currency in the overview, so a page can show major units. */
  currencyExponents: Record<string, number>;
}

/**
 * `since`, as in `dunning report`: only cases opened since then. `now` decides which open cases are
 * paused. The open cases are counted as the OpenCases gauge counts them.
 */
export function recoveryOverview(policies: PolicySet, cases: readonly DunningCase[], now: Date, since?: Date): RecoveryOverview {
  const report = recoveryReport(policies, cases, since);
  const inWindow = since ? cases.filter((c) => Date.parse(c.createdAt) >= since.getTime()) : [...cases];
  const stages = report.reachedStage.map((s) => s.stage);
  const recoveredAt = new Map<string, number>([['opened', 0], ...stages.map((s): [string, number] => [s, 0])]);
  for (const c of inWindow) {
    if (c.status !== 'recovered') continue;
    const step = lastNoticeStage(c, stages) ?? 'opened';
    recoveredAt.set(step, recoveredAt.get(step)! + 1);
  }
  const steps: FunnelStep[] = [
    { step: 'opened', reached: report.opened, recovered: recoveredAt.get('opened')! },
    ...report.reachedStage.map((s) => ({ step: s.stage, reached: s.cases, recovered: recoveredAt.get(s.stage)! })),
  ];
  const currencies = new Set(inWindow.map((c) => c.amountDue.currency.toUpperCase()));
  return {
    generatedAt: now.toISOString(),
    report,
    funnel: { steps, terminated: report.byStatus.terminated },
    daily: dailyEndings(inWindow),
    openCases: countOpenCases(policies, inWindow.filter((c) => c.status === 'open'), now),
    currencyExponents: Object.fromEntries([...currencies].sort().map((c) => [c, stripeExponent(c)])),
  };
}

/** The last notice stage (in policy order) whose notice the case was sent; undefined before any. */
function lastNoticeStage(c: DunningCase, stagesInOrder: readonly string[]): string | undefined {
  const sent = new Set(c.noticesSent ?? []);
  return [...stagesInOrder].reverse().find((stage) => sent.has(stage));
}

/** When a case ended: its close time, else its last update (older cases have no closedAt). */
const endedAt = (c: DunningCase): string => c.closedAt ?? c.updatedAt;

function dailyEndings(cases: readonly DunningCase[]): DailyEndings[] {
  const days = new Map<string, { recovered: number; terminated: number; revenue: Map<string, number> }>();
  for (const c of cases) {
    if (c.status !== 'recovered' && c.status !== 'terminated') continue;
    const day = new Date(endedAt(c)).toISOString().slice(0, 10);
    const d = days.get(day) ?? { recovered: 0, terminated: 0, revenue: new Map<string, number>() };
    days.set(day, d);
    if (c.status === 'terminated') {
      d.terminated += 1;
      continue;
    }
    d.recovered += 1;
    const currency = c.amountDue.currency.toUpperCase();
    d.revenue.set(currency, (d.revenue.get(currency) ?? 0) + c.amountDue.amount);
  }
  return [...days]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([day, d]) => ({
      day,
      recovered: d.recovered,
      terminated: d.terminated,
      recoveryRate: d.recovered / (d.recovered + d.terminated),
      recoveredRevenue: [...d.revenue].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount })),
    }));
}

export type TimelinePointKind = 'notice' | 'retry' | 'wait' | 'end' | 'other';

export interface TimelinePoint {
  at: string;
  kind: TimelinePointKind;
  /** What happened, in a few words: the stage and its detail, or the entry's type. */
  label: string;
  /** A notice: sent or undeliverable; a retry: paid, declined or skipped; the end: the case's status. */
  outcome?: string;
  /** A wait's end: when the next stage acted. */
  until?: string;
}

const KIND_OF: Partial<Record<TimelineEntry['type'], { kind: TimelinePointKind; outcome: string }>> = {
  notice_sent: { kind: 'notice', outcome: 'sent' },
  notice_undeliverable: { kind: 'notice', outcome: 'undeliverable' },
  confirmation_sent: { kind: 'notice', outcome: 'sent' },
  retry_paid: { kind: 'retry', outcome: 'paid' },
  retry_declined: { kind: 'retry', outcome: 'declined' },
  retry_skipped: { kind: 'retry', outcome: 'skipped' },
  stripe_attempt_failed: { kind: 'retry', outcome: 'declined' },
  recovered: { kind: 'end', outcome: 'recovered' },
  terminated: { kind: 'end', outcome: 'terminated' },
  closed: { kind: 'end', outcome: 'closed' },
};

/**
 * A case's timeline as points on a time axis, oldest first, with a `wait` for each gap between one
 * stage's last entry and the next stage's first (a stage: a notice or retry of the policy, or the end).
 */
export function caseTimelineSeries(timeline: readonly TimelineEntry[]): TimelinePoint[] {
  const entries = [...timeline].sort((a, b) => a.at.localeCompare(b.at));
  const points: TimelinePoint[] = entries.map((e) => {
    const known = KIND_OF[e.type];
    const label = [e.stage, e.type === 'stripe_attempt_failed' ? "Stripe's attempt" : undefined, e.detail ?? (known ? undefined : e.type)]
      .filter(Boolean)
      .join(': ');
    return { at: e.at, kind: known?.kind ?? 'other', label: label || e.type, ...(known ? { outcome: known.outcome } : {}) };
  });
  const waits: TimelinePoint[] = [];
  let previous: { stage: string; last: string } | undefined;
  for (const e of entries) {
    const stage = stageOf(e);
    if (!stage) continue;
    if (previous && previous.stage !== stage && e.at > previous.last) waits.push({ at: previous.last, until: e.at, kind: 'wait', label: `waiting for ${stage}` });
    previous = { stage, last: e.at };
  }
  return [...points, ...waits].sort((a, b) => a.at.localeCompare(b.at) || (a.kind === 'wait' ? 1 : 0) - (b.kind === 'wait' ? 1 : 0));
}

/** The stage an entry is a step of, for the waits: notices and retries by their stage, and the end. */
function stageOf(e: TimelineEntry): string | undefined {
  const kind = KIND_OF[e.type]?.kind;
  if (kind === 'end') return 'the end';
  if ((kind === 'notice' || kind === 'retry') && e.stage && e.type !== 'confirmation_sent') return e.stage;
  return undefined;
}
