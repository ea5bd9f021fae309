// Pre-dunning is a policy stage: with `preDunning.enabled: false` an expiring card gets no heads-up.
// Its own file: the handlers cache their dependencies per process, so one runtime per file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentBanner } from '#shared/dunning/current-banner.ts';
import { policyWith, writePolicyFile } from '../fixtures/policies.ts';
import { nearRenewal, subscribe } from '../fixtures/renewals.ts';
import { latestEvent, startTestRuntime, subjectsTo, type TestRuntime } from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  const file = writePolicyFile(policyWith((p) => void (p.preDunning = { enabled: false })));
  t = await startTestRuntime({ dayMs: 60_000, policyFile: file });
});
afterAll(async () => {
  await t?.close();
});

describe('with preDunning disabled in the policy', () => {
  it('sends no heads-up and sets no banner for a card that expires before the renewal', async () => {
    const r = await subscribe(t.stripe, 'Policy Off', { expiring: true });

    await nearRenewal(t, r);

    expect(t.runtime.policy.preDunning.enabled).toBe(false);
    expect(await latestEvent(t.stripe, 'invoice.upcoming', r.customerId)).toBeTruthy();
    expect(await subjectsTo(t.runtime, r.email)).toEqual([]);
    expect(await currentBanner(t.runtime.store, r.customerId)).toBeUndefined();
  });
});
