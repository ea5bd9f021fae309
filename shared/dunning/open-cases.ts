// The open-cases gauge: how many cases are open right now, at each stage. Counted from the cases
// themselves (the sparse open-cases index), so unlike a sum of opened-minus-closed counters it
// cannot drift when a metric is lost, and it shows where the open cases are waiting.
import type { DunningCase } from '../domain/case.ts';
import type { CaseQueries, MetricsSink } from '../domain/ports.ts';
import { DEFAULT_POLICY_NAME, policyNames, type PolicySet } from '../policy/segments.ts';
import { policyStateName } from '../workflow/definition.ts';

/** The Stage of an open case that no stage has acted on yet (its first stage is about to run). */
export const NOT_STARTED_STAGE = 'Opened';

/**
 * Where an open case is waiting: the state name of the last stage that acted (`Notice2`, or
 * `annual.Retry1` for a case of the annual policy), the same names as the state machine's states.
 */
export function openCaseStage(c: Pick<DunningCase, 'stage' | 'policy'>): string {
  if (!c.stage) return NOT_STARTED_STAGE;
  return policyStateName(c.policy ?? DEFAULT_POLICY_NAME, c.stage);
}

/**
 * Every Stage value the gauge can report for this policy file, in the order a case moves through
 * them: so the dashboard can list each one, and a stage with no open case reads 0, not a gap.
 */
export function openCaseStages(policies: PolicySet): string[] {
  const stages = [NOT_STARTED_STAGE];
  for (const name of policyNames(policies)) {
    const policy = policies.policies[name]!;
    for (const stage of policy.stages) stages.push(policyStateName(name, stage.id));
    stages.push(policyStateName(name, 'Terminate'));
  }
  return stages;
}

export interface OpenCasesCount {
  /** Every open case. */
  total: number;
  /** Open cases per Stage: every stage of the policy file, zeros included, then any other seen. */
  byStage: Array<{ stage: string; cases: number }>;
  /** Open cases an operator has paused (also counted at their stage). */
  paused: number;
}

export function countOpenCases(policies: PolicySet, open: readonly DunningCase[], now: Date): OpenCasesCount {
  const counts = new Map<string, number>(openCaseStages(policies).map((stage) => [stage, 0]));
  let paused = 0;
  for (const c of open) {
    const stage = openCaseStage(c);
    // A stage of a policy no longer in the file (a case opened before a deploy) still counts.
    counts.set(stage, (counts.get(stage) ?? 0) + 1);
    if (c.pausedUntil && Date.parse(c.pausedUntil) > now.getTime()) paused += 1;
  }
  return { total: open.length, byStage: [...counts].map(([stage, cases]) => ({ stage, cases })), paused };
}

export interface OpenCasesGaugeDeps {
  store: Pick<CaseQueries, 'listOpenCases'>;
  policies: PolicySet;
  metrics: MetricsSink;
  clock: { now(): Date };
}

/**
 * Reads the open cases and emits `OpenCases` once per Stage (zeros too). Run on a schedule; each
 * run is a complete picture, so a missed run only leaves a gap in the graph.
 */
export async function measureOpenCases(deps: OpenCasesGaugeDeps): Promise<OpenCasesCount> {
  const count = countOpenCases(deps.policies, await deps.store.listOpenCases(), deps.clock.now());
  for (const { stage, cases } of count.byStage) deps.metrics.count('OpenCases', { Stage: stage }, cases);
  return count;
}
