// The `npm start` demo under a policy file of one's own: its three customers follow the stages of
// the policy the router gives the demo's plan, whatever their ids and however many notices it has.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCustomers, runDemo } from '#local/demo.ts';
import { annualPolicyFile, shortPolicy, writePolicyFile } from '../fixtures/policies.ts';
import { startTestRuntime, subjectsTo, SUBJECTS, type TestRuntime } from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  // Monthly plans (the demo's) get a policy of two notices with ids of its own; everyone else the
  // shipped three-notice default, which the demo must not follow.
  const file = annualPolicyFile((f) => {
    f.policies.monthly = structuredClone(f.policies.annual);
    f.policies.monthly.stages = [
      { id: 'FirstWord', type: 'notice', day: 0, notice: { message: 'payment_failed' } },
      { id: 'Retry1', type: 'retry', day: 2 },
      { id: 'LastWord', type: 'notice', day: 2, notice: { message: 'due_to_terminate' } },
      { id: 'Retry2', type: 'retry', day: 4 },
    ];
    f.policies.monthly.end = { day: 4, action: 'cancel_now', notice: { message: 'terminated' } };
    f.policies.monthly.access.changes = [{ fromDay: 2, access: 'limited' }];
    f.segments = [{ when: { interval: 'month' }, policy: 'monthly' }];
    f.alsoNotify = [];
  });
  t = await startTestRuntime({ dayMs: 150, policyFile: writePolicyFile(file) });
});
afterAll(async () => {
  await t?.close();
});

describe('demoCustomers', () => {
  it('has one customer fix after the first notice, one after the last, one never', () => {
    const customers = demoCustomers(shortPolicy());
    expect(customers.map((c) => [c.name, c.fixesAfter])).toEqual([
      ['Ada Lovelace', 'Notice1'],
      ['Grace Hopper', 'Notice2'],
      ['Alan Turing', undefined],
    ]);
  });
});

describe('the demo', () => {
  it('follows the two-notice policy its plan is routed to: a recovery after the first notice, one after the last, a termination', async () => {
    const printed: string[] = [];

    const outcomes = await runDemo({
      apiKey: t.runtime.stripeApiKey,
      apiBase: t.runtime.sandbox?.url,
      store: t.runtime.store,
      policies: t.runtime.policies,
      print: (line) => printed.push(line),
      timeoutMs: 60_000,
    });

    expect(outcomes.map((o) => [o.customer.name, o.caseStatus, o.subscriptionStatus])).toEqual([
      ['Ada Lovelace', 'recovered', 'active'],
      ['Grace Hopper', 'recovered', 'active'],
      ['Alan Turing', 'terminated', 'canceled'],
    ]);
    expect(printed).toContain('demo: under policy "monthly", Ada fixes their card after FirstWord, Grace after LastWord, Alan never');
    expect(printed.some((line) => line.startsWith('demo: Grace Hopper updates their card after LastWord'))).toBe(true);
    // Grace hears both notices of the policy, then is thanked: her recovery came after the last one.
    expect(await subjectsTo(t.runtime, 'grace@example.com')).toEqual([SUBJECTS.notice1, SUBJECTS.notice3, SUBJECTS.recovered]);
    expect(await subjectsTo(t.runtime, 'ada@example.com')).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
    expect(await subjectsTo(t.runtime, 'alan@example.com')).toEqual([SUBJECTS.notice1, SUBJECTS.notice3, SUBJECTS.ended]);
    const cases = await t.runtime.store.listCases();
    expect(cases.map((c) => c.policy)).toEqual(['monthly', 'monthly', 'monthly']);
  }, 90_000);
});
