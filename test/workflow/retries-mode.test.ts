// Who retries the charge: the policy's `retries`. Our scheduled retries never charge on a day Stripe
// has its own attempt scheduled, and stand down entirely when the policy leaves retries to Stripe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvoiceReadOptions, PaymentGateway } from '#shared/domain/ports.ts';
import { runRetryStage } from '#shared/dunning/stages.ts';
import { policyWith } from '../fixtures/policies.ts';
import { startTestRuntime, type TestRuntime } from '../fixtures/scenario.ts';
import { openCaseQuietly, realDeps } from '../fixtures/stage-deps.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ dayMs: 60_000 });
});
afterAll(async () => {
  await t?.close();
});

/**
 * The real gateway, with Stripe's next automatic attempt set on every invoice it reads: the sandbox
 * runs with Stripe's retries off, so this is the one state it cannot produce.
 */
function withStripeAttemptIn(seconds: number): PaymentGateway {
  const real = realDeps(t).stripe;
  return new Proxy(real, {
    get(target, property, receiver) {
      if (property === 'getInvoice') {
        return async (id: string, options?: InvoiceReadOptions) => ({ ...(await target.getInvoice(id, options)), nextPaymentAttempt: Math.floor(Date.now() / 1000) + seconds });
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Charges made on the invoice, each one failed: one `invoice.payment_failed` each. (`attempt_count`
 * would not tell: Stripe counts only its own attempts, not ours.)
 */
async function attempts(invoiceId: string): Promise<number> {
  const events = await t.stripe.events.list({ type: 'invoice.payment_failed', limit: 100 });
  return events.data.filter((e) => (e.data.object as { id?: string }).id === invoiceId).length;
}

describe('retries: "stripe"', () => {
  it('makes the retry stages stand down: no charge, the sequence goes on', async () => {
    const c = await openCaseQuietly(t, 'Stripe Retries');
    const policy = policyWith((p) => {
      p.retries = 'stripe';
    });

    const result = await runRetryStage(realDeps(t, { policy }), c.invoiceId, 'Retry1');

    expect(result).toMatchObject({ outcome: 'declined', code: 'left_to_stripe' });
    expect(await attempts(c.invoiceId)).toBe(1);
    expect(await realDeps(t).store.listTimeline(c.invoiceId)).toContainEqual(
      expect.objectContaining({ type: 'retry_skipped', stage: 'Retry1', detail: 'the policy leaves retries to Stripe' }),
    );
  });
});

describe('retries: "workflow" (the default)', () => {
  it('does not charge on a day Stripe has its own attempt scheduled', async () => {
    const c = await openCaseQuietly(t, 'Stripe Tries Today');

    const result = await runRetryStage({ ...realDeps(t, { onPolicyDay: 3 }), stripe: withStripeAttemptIn(2 * 3600) }, c.invoiceId, 'Retry1');

    expect(result).toMatchObject({ outcome: 'declined', code: 'left_to_stripe' });
    expect(await attempts(c.invoiceId)).toBe(1);
  });

  it('charges when Stripe is not due to try within a day', async () => {
    const c = await openCaseQuietly(t, 'Stripe Tries Later');

    // Run as on Retry1's day, inside the customer's business hours: the retry rules let it charge.
    const result = await runRetryStage({ ...realDeps(t, { onPolicyDay: 3 }), stripe: withStripeAttemptIn(3 * 86_400) }, c.invoiceId, 'Retry1');

    expect(result).toMatchObject({ outcome: 'declined', code: 'generic_decline' });
    expect(await attempts(c.invoiceId)).toBe(2);
  });
});
