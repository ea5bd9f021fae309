// The recovery report an operator prints (`dunning report`): the funnel, the recovery rate and the
// recovered revenue, computed from the cases themselves (the dashboard shows the same from metrics).
import type { CaseStatus, DunningCase } from '../domain/case.ts';
import type { PolicySet } from '../policy/segments.ts';

export interface RecoveryReport {
  since?: string;
  opened: number;
  /** Cases whose notice of each notice stage was sent (claimed): every policy's stages, in policy order. */
  reachedStage: Array<{ stage: string; cases: number }>;
  byStatus: Record<CaseStatus, number>;
  /** recovered ÷ (recovered + terminated): of the cases that ended either way, the share that paid. */
  recoveryRate?: number;
  /** Recovered revenue per currency (upper case), in minor units. */
  recoveredRevenue: Array<{ currency: string; amount: number }>;
}

export function recoveryReport(policies: PolicySet, cases: readonly DunningCase[], since?: Date): RecoveryReport {
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
    reachedStage: noticeStageIds(policies).map((stage) => ({ stage, cases: inWindow.filter((c) => (c.noticesSent ?? []).includes(stage)).length })),
    byStatus,
    recoveryRate: ended > 0 ? byStatus.recovered / ended : undefined,
    recoveredRevenue: [...revenue].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount })),
  };
}

/** The notice stage ids of every policy, each once, in the order the policies list them. */
function noticeStageIds(policies: PolicySet): string[] {
  const ids = new Set<string>();
  for (const policy of Object.values(policies.policies)) {
    for (const stage of policy.stages) if (stage.type === 'notice') ids.add(stage.id);
  }
  return [...ids];
}
