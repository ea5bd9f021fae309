// Faults inside a stage, injected where the local services cannot produce them: a crash after SES
// took the email, a throttled send, a rejected address. Everything else is the real adapters
// against dynalite, SES v2 and the Stripe sandbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseClosedError, EmailRejectedError, EmailThrottledError, PaymentInProgressError } from '#shared/domain/errors.ts';
import { chargeCase } from '#shared/dunning/charge.ts';
import type { CaseStore, Mailer } from '#shared/domain/ports.ts';
import { runNoticeStage } from '#shared/dunning/stages.ts';
import { flagCase, recoverCase, terminateCase } from '#shared/dunning/close.ts';
import { putInWorkingCard, startTestRuntime, subjectsTo, SUBJECTS, withDeliveriesPaused, type TestRuntime } from '../fixtures/scenario.ts';
import { recordingMetrics } from '../fixtures/metrics.ts';
import { openCaseQuietly, realDeps } from '../fixtures/stage-deps.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ dayMs: 60_000 });
});
afterAll(async () => {
  await t?.close();
});

/** A store that dies once at the given timeline entry, as a Lambda killed at that line would. */
function crashingAt(type: string): CaseStore {
  const store = realDeps(t).store;
  let crashed = false;
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'appendTimeline') {
        return async (invoiceId: string, entry: { type: string }) => {
          if (entry.type === type && !crashed) {
            crashed = true;
            throw new Error('Runtime exited with error: signal: killed');
          }
          return target.appendTimeline(invoiceId, entry as never);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

describe('a notice stage that crashes after SES took the email', () => {
  it('sends no second email when the state machine retries it, and counts the one it sent', async () => {
    const c = await openCaseQuietly(t, 'Crash After Send');
    const metrics = recordingMetrics();

    await expect(runNoticeStage(realDeps(t, { store: crashingAt('notice_sent'), metrics }), c.invoiceId, 'Notice1')).rejects.toThrow(/killed/);
    const retried = await runNoticeStage(realDeps(t, { metrics }), c.invoiceId, 'Notice1');

    expect(retried.outcome).toBe('already_sent');
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.notice1]);
    expect(metrics.of('NoticeSent')).toEqual([{ name: 'NoticeSent', dimensions: { Stage: 'Notice1' }, value: 1 }]);
  });

  it('sends no second confirmation when recovery crashes after SES took it, and counts the recovery once', async () => {
    const c = await openCaseQuietly(t, 'Crash After Thanks');
    await t.stripe.invoices.pay(c.invoiceId, { payment_method: 'pm_card_visa' });
    const metrics = recordingMetrics();

    await expect(recoverCase(realDeps(t, { store: crashingAt('confirmation_sent'), metrics }), c.invoiceId, 'workflow_retry')).rejects.toThrow(/killed/);
    await recoverCase(realDeps(t, { metrics }), c.invoiceId, 'workflow_retry');

    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.recovered]);
    expect(metrics.data).toEqual([
      { name: 'CaseRecovered', dimensions: { RecoveredBy: 'workflow_retry' }, value: 1 },
      { name: 'RecoveredAmount', dimensions: { Currency: c.amountDue.currency.toUpperCase() }, value: c.amountDue.amount },
      { name: 'NoticeSent', dimensions: { Stage: 'Recovered' }, value: 1 },
    ]);
  });
});

describe('a notice stage whose send SES throttles', () => {
  it('gives the claim back, so the retry sends the notice exactly once', async () => {
    const c = await openCaseQuietly(t, 'Throttled Once');
    const real = realDeps(t).mailer;
    let calls = 0;
    const throttledOnce: Mailer = {
      send: (message) => (++calls === 1 ? Promise.reject(new EmailThrottledError('Maximum sending rate exceeded.')) : real.send(message)),
    };

    await expect(runNoticeStage(realDeps(t, { mailer: throttledOnce }), c.invoiceId, 'Notice1')).rejects.toBeInstanceOf(EmailThrottledError);
    const retried = await runNoticeStage(realDeps(t, { mailer: throttledOnce }), c.invoiceId, 'Notice1');

    expect(retried.outcome).toBe('sent');
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.notice1]);
  });
});

describe('a notice SES rejects for good', () => {
  it('records the notice as undeliverable on the case and lets the sequence go on', async () => {
    const c = await openCaseQuietly(t, 'Suppressed Address');
    const rejecting: Mailer = { send: () => Promise.reject(new EmailRejectedError('Email address is on the suppression list')) };
    const metrics = recordingMetrics();

    const result = await runNoticeStage(realDeps(t, { mailer: rejecting, metrics }), c.invoiceId, 'Notice1');
    const timeline = await realDeps(t).store.listTimeline(c.invoiceId);

    expect(result.outcome).toBe('undeliverable');
    expect(timeline).toContainEqual(expect.objectContaining({ type: 'notice_undeliverable', stage: 'Notice1', detail: expect.stringMatching(/suppression/) }));
    expect((await realDeps(t).store.getCase(c.invoiceId))?.status).toBe('open');
    // Not sent; and the stage still plans the retry that follows it.
    expect(metrics.names()).toEqual(['NoticeUndeliverable', 'RetryScheduled']);
  });
});

describe('a Terminate stage whose termination email SES throttles after the subscription ended', () => {
  it('tells the customer when the state machine retries it, exactly once, instead of standing down on its own close', async () => {
    const c = await openCaseQuietly(t, 'Throttled At The End');
    const real = realDeps(t).mailer;
    let calls = 0;
    const throttledOnce: Mailer = {
      send: (message) => (++calls === 1 ? Promise.reject(new EmailThrottledError('Maximum sending rate exceeded.')) : real.send(message)),
    };

    await expect(terminateCase(realDeps(t, { mailer: throttledOnce }), c.invoiceId)).rejects.toBeInstanceOf(EmailThrottledError);
    expect((await realDeps(t).store.getCase(c.invoiceId))?.status).toBe('terminated');
    await terminateCase(realDeps(t, { mailer: throttledOnce }), c.invoiceId);
    await terminateCase(realDeps(t, { mailer: throttledOnce }), c.invoiceId);

    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.ended]);
    expect((await t.stripe.subscriptions.retrieve(c.subscriptionId)).status).toBe('canceled');
  });
});

describe('Terminate and a card put in at the last minute', () => {
  it('waits while a charge of the invoice is under way, then finds it paid and recovers instead of cancelling', async () => {
    const c = await openCaseQuietly(t, 'Last Minute Payer');
    const deps = realDeps(t);
    // A card-update charge holds the pay lock: Terminate must not cancel under it.
    expect(await deps.store.acquirePayLock(c.invoiceId, 'event:evt_card', new Date(), 60_000)).toBe(true);

    await expect(terminateCase(deps, c.invoiceId)).rejects.toBeInstanceOf(PaymentInProgressError);
    expect((await t.stripe.subscriptions.retrieve(c.subscriptionId)).status).not.toBe('canceled');

    await withDeliveriesPaused(t.runtime, () => t.stripe.invoices.pay(c.invoiceId, { payment_method: 'pm_card_visa' }));
    await deps.store.releasePayLock(c.invoiceId, 'event:evt_card');
    await expect(terminateCase(deps, c.invoiceId)).rejects.toMatchObject({ name: 'CaseClosedError', status: 'recovered' });

    expect((await t.stripe.subscriptions.retrieve(c.subscriptionId)).status).toBe('active');
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.recovered]);
  });

  it('is never followed by a charge: a new card after the case terminated is not charged', async () => {
    const c = await openCaseQuietly(t, 'Too Late Card');
    const deps = realDeps(t);
    await terminateCase(deps, c.invoiceId);
    const card = await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, c.customerId));

    await expect(chargeCase(deps, { ...c }, { holder: 'event:evt_late', idempotencyKey: 'late', paymentMethod: card, by: 'card_update' })).rejects.toMatchObject({
      name: 'CaseClosedError',
      status: 'terminated',
    });
    expect((await t.stripe.invoices.retrieve(c.invoiceId)).status).toBe('open');
  });
});

describe('a stage whose invoice Stripe has ended without telling us', () => {
  it('closes the case with the reason and stands down instead of sending the notice', async () => {
    const c = await openCaseQuietly(t, 'Voided Quietly');
    await withDeliveriesPaused(t.runtime, () => t.stripe.invoices.voidInvoice(c.invoiceId));

    await expect(runNoticeStage(realDeps(t), c.invoiceId, 'Notice1')).rejects.toBeInstanceOf(CaseClosedError);

    expect(await realDeps(t).store.getCase(c.invoiceId)).toMatchObject({ status: 'closed', closedReason: 'invoice voided in Stripe' });
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([]);
  });
});

describe('a case flagged after its retries ran out', () => {
  it('is marked needs_attention with the error and emits the NeedsAttention metric', async () => {
    const c = await openCaseQuietly(t, 'Flag Me');
    const metrics = recordingMetrics();
    const deps = { ...realDeps(t), metrics };

    await flagCase(deps, c.invoiceId, { name: 'StripeUnavailableError', message: 'Stripe answered 503 six times' });

    expect(await deps.store.getCase(c.invoiceId)).toMatchObject({
      status: 'needs_attention',
      error: { name: 'StripeUnavailableError', message: 'Stripe answered 503 six times' },
    });
    expect(metrics.names()).toEqual(['NeedsAttention']);
  });
});
