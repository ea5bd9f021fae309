// The heads-up speaks for the policy the subscription's renewal would run (its segment), not the
// default one: that policy's brand, and its preDunning switch.
// Its own file: the handlers cache their dependencies per process, so one runtime per file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSesInbox } from '#local/ses.ts';
import { currentBanner } from '#shared/dunning/current-banner.ts';
import { annualPolicyFile, writePolicyFile } from '../fixtures/policies.ts';
import { nearRenewal, subscribe } from '../fixtures/renewals.ts';
import { latestEvent, startTestRuntime, subjectsTo, waitFor, type TestRuntime } from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  const file = writePolicyFile(
    annualPolicyFile((draft) => {
      draft.policies.annual.brand = { ...draft.policies.annual.brand, productName: 'Acme Annual' };
      const quiet = structuredClone(draft.policies.default);
      quiet.preDunning = { enabled: false };
      draft.policies.quiet = quiet;
      draft.segments.unshift({ when: { metadata: { tier: 'quiet' } }, policy: 'quiet' });
    }),
  );
  t = await startTestRuntime({ dayMs: 60_000, policyFile: file });
});
afterAll(async () => {
  await t?.close();
});

describe('pre-dunning with policies per segment', () => {
  it("writes in the brand of the subscription's own policy", async () => {
    const r = await subscribe(t.stripe, 'Annual Heads Up', { expiring: true, interval: 'year' });

    await nearRenewal(t, r);

    const email = await waitFor(async () => (await readSesInbox(t.runtime.urls.ses)).find((m) => m.to.includes(r.email)), 10_000, 'the heads-up');
    expect(email.text).toContain('your Acme Annual subscription');
    expect(email.text).not.toMatch(/your Acme subscription/);
  });

  it('still writes in the default brand for a subscription no segment takes', async () => {
    const r = await subscribe(t.stripe, 'Monthly Heads Up', { expiring: true });

    await nearRenewal(t, r);

    const email = await waitFor(async () => (await readSesInbox(t.runtime.urls.ses)).find((m) => m.to.includes(r.email)), 10_000, 'the heads-up');
    expect(email.text).toContain('your Acme subscription');
  });

  it('sends nothing when the policy of the subscription has pre-dunning off, though the default has it on', async () => {
    const r = await subscribe(t.stripe, 'Quiet Heads Up', { expiring: true, metadata: { tier: 'quiet' } });

    await nearRenewal(t, r);

    expect(t.runtime.policies.policies.default!.preDunning.enabled).toBe(true);
    expect(await latestEvent(t.stripe, 'invoice.upcoming', r.customerId)).toBeTruthy();
    expect(await subjectsTo(t.runtime, r.email)).toEqual([]);
    expect(await currentBanner(t.runtime.store, r.customerId)).toBeUndefined();
  });
});
