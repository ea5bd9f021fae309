import { describe, expect, it } from 'vitest';
import { costOf, PRICES, secretFetchesPerInvocation, SECRET_REUSE_SECONDS, type FunctionFacts } from './cost.ts';
import type { PathMeasurement } from './paths.ts';

const path: PathMeasurement = {
  path: 'recovered at Retry1',
  status: 'recovered',
  states: [],
  transitions: 6,
  tasksRun: [],
  matchesEngine: true,
  invocations: { 'handle-webhook': 6, 'send-notice': 1 },
  dynamo: { calls: {}, writeUnits: 36, readUnits: 12 },
  emails: 2,
} as PathMeasurement;
const facts: Record<string, FunctionFacts> = {
  'handle-webhook': { memoryMb: 256, durationMs: 100, secrets: 3 },
  'send-notice': { memoryMb: 1024, durationMs: 999.2, secrets: 2 },
};

describe('the Secrets Manager model', () => {
  it('fetches on every invocation of a function that is rarely called, and once per cache lifetime of a busy one', () => {
    expect(secretFetchesPerInvocation(0)).toBe(1);
    expect(secretFetchesPerInvocation(1 / SECRET_REUSE_SECONDS)).toBe(0.5);
    expect(secretFetchesPerInvocation(10)).toBeCloseTo(1 / (10 * SECRET_REUSE_SECONDS), 4);
  });

  it('counts fewer calls at the modelled traffic than a fetch on every invocation', () => {
    const month = 30 * 24 * 3600;
    const cost = costOf(path, facts, 1000);

    expect(cost.secretCallsEveryInvocation).toBe(6 * 3 + 1 * 2);
    expect(cost.secretCalls).toBeCloseTo(18 * secretFetchesPerInvocation(6000 / month) + 2 * secretFetchesPerInvocation(1000 / month), 6);
    expect(cost.per1000.totalFetchEveryInvocation - cost.per1000.total).toBeCloseTo(1000 * (cost.secretCallsEveryInvocation - cost.secretCalls) * PRICES.secretCall, 9);
  });
});

describe('the price of one path', () => {
  it('adds every service, billing Lambda by the rounded-up millisecond at the configured memory', () => {
    const cost = costOf(path, facts, 0);

    expect(cost.per1000.stepFunctions).toBeCloseTo(1000 * 6 * 0.000025, 9);
    expect(cost.gbSeconds).toBeCloseTo(6 * 0.25 * 0.1 + 1 * 1 * 1, 9);
    expect(cost.per1000.dynamodb).toBeCloseTo(1000 * (36 * 0.625 + 12 * 0.125) / 1e6, 9);
    expect(cost.per1000.ses).toBeCloseTo(0.2, 9);
    expect(cost.per1000.totalSesEssentials - cost.per1000.total).toBeCloseTo(1000 * 2 * (0.00016 - 0.0001), 9);
    expect(cost.per1000.total).toBeCloseTo(cost.per1000.stepFunctions + cost.per1000.lambda + cost.per1000.dynamodb + cost.per1000.ses + cost.per1000.secretsManager + cost.per1000.sqs, 9);
  });

  it('prices the event queue at three FIFO requests per event the router received', () => {
    const routed = costOf({ ...path, invocations: { ...path.invocations, 'route-events': 4 } }, { ...facts, 'route-events': { memoryMb: 512, durationMs: 50, secrets: 1 } }, 0);

    expect(routed.per1000.sqs).toBeCloseTo(1000 * 4 * 3 * (0.5 / 1e6), 12);
    expect(costOf(path, facts, 0).per1000.sqs).toBe(0);
  });
});
