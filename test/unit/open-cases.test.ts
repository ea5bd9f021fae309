// The open-cases gauge's arithmetic: which Stage an open case is counted at, and that every stage of
// every policy is reported (zeros included) so a graph shows an emptied stage as 0, not as a gap.
import { describe, expect, it } from 'vitest';
import type { DunningCase } from '#shared/domain/case.ts';
import { countOpenCases, measureOpenCases, openCaseStage, openCaseStages } from '#shared/dunning/open-cases.ts';
import { parsePolicySet } from '#shared/policy/load.ts';
import { annualPolicyFile, defaultPolicy } from '../fixtures/policies.ts';
import { recordingMetrics } from '../fixtures/metrics.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const single = parsePolicySet(structuredClone(defaultPolicy()));
const several = parsePolicySet(annualPolicyFile());
const open = (stage?: string, extra: Partial<DunningCase> = {}) => ({ stage, ...extra }) as DunningCase;

describe('openCaseStage', () => {
  it('names the stage as the state machine does: plain for the default policy, prefixed for another', () => {
    expect(openCaseStage({ stage: 'Notice2' })).toBe('Notice2');
    expect(openCaseStage({ stage: 'Notice2', policy: 'default' })).toBe('Notice2');
    expect(openCaseStage({ stage: 'Retry1', policy: 'annual' })).toBe('annual.Retry1');
    expect(openCaseStage({ stage: 'Terminate', policy: 'annual' })).toBe('annual.Terminate');
  });

  it('counts a case no stage has acted on yet as Opened', () => {
    expect(openCaseStage({})).toBe('Opened');
    expect(openCaseStage({ policy: 'annual' })).toBe('Opened');
  });
});

describe('openCaseStages', () => {
  it('lists Opened, then each policy stage in order, then Terminate', () => {
    expect(openCaseStages(single)).toEqual(['Opened', 'Notice1', 'Retry1', 'Notice2', 'Retry2', 'Notice3', 'Retry3', 'Terminate']);
  });

  it('lists every policy of the file, the default first, under their state names', () => {
    const stages = openCaseStages(several);

    expect(stages.slice(0, 8)).toEqual(openCaseStages(single));
    expect(stages.slice(8)).toEqual([
      'annual.Notice1', 'annual.Retry1', 'annual.Notice2', 'annual.Retry2', 'annual.Notice3', 'annual.Retry3', 'annual.Terminate',
    ]);
  });
});

describe('countOpenCases', () => {
  it('counts each open case once, at its stage, with zeros for the empty stages', () => {
    const count = countOpenCases(single, [open('Notice1'), open('Retry1'), open('Retry1'), open()], NOW);

    expect(count.total).toBe(4);
    expect(Object.fromEntries(count.byStage.map((s) => [s.stage, s.cases]))).toEqual({
      Opened: 1, Notice1: 1, Retry1: 2, Notice2: 0, Retry2: 0, Notice3: 0, Retry3: 0, Terminate: 0,
    });
  });

  it('still counts a case at a stage the policy file no longer has (opened before a deploy)', () => {
    const count = countOpenCases(single, [open('Notice4')], NOW);

    expect(count.byStage.at(-1)).toEqual({ stage: 'Notice4', cases: 1 });
    expect(count.total).toBe(1);
  });

  it('counts the cases paused now, and not those whose pause has passed', () => {
    const count = countOpenCases(
      single,
      [open('Notice2', { pausedUntil: '2026-03-02T00:00:00.000Z' }), open('Notice2', { pausedUntil: '2026-02-01T00:00:00.000Z' })],
      NOW,
    );

    expect(count.paused).toBe(1);
  });
});

describe('measureOpenCases', () => {
  it('emits OpenCases once per stage, with the count as the value, zeros included', async () => {
    const metrics = recordingMetrics();

    await measureOpenCases({
      store: { listOpenCases: async () => [open('Notice3'), open('Retry3', { policy: 'annual' })] },
      policies: several,
      metrics,
      clock: { now: () => NOW },
    });

    const emitted = metrics.of('OpenCases');
    expect(emitted).toHaveLength(openCaseStages(several).length);
    expect(emitted.filter((d) => d.value > 0).map((d) => [d.dimensions.Stage, d.value])).toEqual([
      ['Notice3', 1],
      ['annual.Retry3', 1],
    ]);
    expect(emitted.find((d) => d.dimensions.Stage === 'Opened')?.value).toBe(0);
  });
});
