// The recovery report an operator prints (`dunning report`): the funnel, the recovery rate and the
// recovered revenue, computed from the cases themselves (the dashboard shows the same from metrics).
import type { CaseStatus, DunningCase } from '../domain/case.ts';
import type { Policy } from '../policy/schema.ts';

export interface RecoveryReport {
  since?: string;
  opened: number;
  /** Cases whose notice of each policy notice stage was sent (claimed), in policy order. */
  reachedStage: Array<{ stage: string; cases: number }>;
  byStatus: Record<CaseStatus, number>;
  /** recovered ÷ (recovered + terminated): of the cases that ended either way, the share that paid. */
  recoveryRate?: number;
  /** Recovered revenue per currency (upper case), in minor units. */
  recoveredRevenue: Array<{ currency: string; amount: number }>;
}

export function recoveryReport(policy: Policy, cases: readonly DunningCase[], since?: Date): RecoveryReport {
  const inWindow = since ? cases.filter((c) => Date.parse(c.createdAt) >= since.getTime()) : [...cases];
  const byStatus: Record<CaseStatus, number> = { open: 0, recovered: 0, terminated: 0, closed: 0, needs_attention: 0 };
  const revenue = new Map<string, number>();
  for (const c of inWindow) {
    byStatus[c.status] += 1;
    if (c.status === 'recovered') {
      const currency = c.amountDue.currency.toUpperCase();
      revenue.set(currency, (revenue.get(currency) ?? 0) + c.amountDue.amount);
    }
  }
  const ended = byStatus.recovered + byStatus.terminated;
  return {
    since: since?.toISOString(),
    opened: inWindow.length,
    reachedStage: policy.stages
      .filter((stage) => stage.type === 'notice')
      .map((stage) => ({ stage: stage.id, cases: inWindow.filter((c) => (c.noticesSent ?? []).includes(stage.id)).length })),
    byStatus,
    recoveryRate: ended > 0 ? byStatus.recovered / ended : undefined,
    recoveredRevenue: [...revenue].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount })),
  };
}
