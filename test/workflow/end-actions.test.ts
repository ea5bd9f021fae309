// What the policy's end action does to the subscription when every retry has failed, run by the
// real Terminate use case against the Stripe sandbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terminateCase } from '#shared/dunning/close.ts';
import type { EndAction } from '#shared/policy/schema.ts';
import { policyWith } from '../fixtures/policies.ts';
import { startTestRuntime, subjectsTo, SUBJECTS, type TestRuntime } from '../fixtures/scenario.ts';
import { openCaseQuietly, realDeps } from '../fixtures/stage-deps.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ dayMs: 60_000 });
});
afterAll(async () => {
  await t?.close();
});

async function terminateWith(action: EndAction, markUncollectible = false) {
  const c = await openCaseQuietly(t, `End ${action}${markUncollectible ? ' uncollectible' : ''}`);
  const policy = policyWith((p) => {
    p.end.action = action;
    p.end.markUncollectible = markUncollectible;
  });
  await terminateCase(realDeps(t, { policy }), c.invoiceId);
  return {
    dunningCase: await realDeps(t).store.getCase(c.invoiceId),
    subscription: await t.stripe.subscriptions.retrieve(c.subscriptionId),
    invoice: await t.stripe.invoices.retrieve(c.invoiceId),
    emails: await subjectsTo(t.runtime, c.customerEmail!),
  };
}

describe('the end action', () => {
  it('cancel_now cancels the subscription at once', async () => {
    const { dunningCase, subscription, emails } = await terminateWith('cancel_now');

    expect(subscription.status).toBe('canceled');
    expect(dunningCase?.status).toBe('terminated');
    expect(emails).toEqual([SUBJECTS.ended]);
  });

  it('cancel_at_period_end leaves it running until the period ends, then cancels', async () => {
    const { subscription, dunningCase } = await terminateWith('cancel_at_period_end');

    expect(subscription).toMatchObject({ status: 'past_due', cancel_at_period_end: true });
    expect(dunningCase?.status).toBe('terminated');
  });

  it('pause_collection keeps the subscription but stops collecting', async () => {
    const { subscription } = await terminateWith('pause_collection');

    expect(subscription.status).not.toBe('canceled');
    expect(subscription.pause_collection).toMatchObject({ behavior: 'keep_as_draft' });
  });

  it.each(['leave_past_due', 'leave_unpaid'] as const)('%s leaves the subscription alone', async (action) => {
    const { subscription, dunningCase } = await terminateWith(action);

    expect(subscription).toMatchObject({ status: 'past_due', cancel_at_period_end: false, pause_collection: null });
    expect(dunningCase?.status).toBe('terminated');
  });

  it('marks the invoice uncollectible too when the policy says so, and closes the case as terminated, not from outside', async () => {
    const { invoice, subscription, dunningCase } = await terminateWith('cancel_now', true);

    expect(invoice.status).toBe('uncollectible');
    expect(subscription.status).toBe('canceled');
    // Our own action makes Stripe send invoice.marked_uncollectible; it must not re-close the case.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await realDeps(t).store.getCase(dunningCase!.invoiceId))?.status).toBe('terminated');
  });

  it('does nothing twice when the Terminate stage is retried', async () => {
    const c = await openCaseQuietly(t, 'End Twice');
    const policy = policyWith((p) => {
      p.end.markUncollectible = true;
    });

    await terminateCase(realDeps(t, { policy }), c.invoiceId);
    // The retry finds its own termination: it only makes sure the customer was told, which they were.
    await terminateCase(realDeps(t, { policy }), c.invoiceId);

    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.ended]);
    expect((await realDeps(t).store.listTimeline(c.invoiceId)).filter((e) => e.type === 'end_action')).toHaveLength(1);
  });
});
