// Faults inside a stage, injected where the local services cannot produce them: a crash after SES
// took the email, a throttled send, a rejected address. Everything else is the real adapters
// against dynalite, SES v2 and the Stripe sandbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseClosedError, EmailRejectedError, EmailThrottledError, PaymentInProgressError } from '#shared/domain/errors.ts';
import { chargeCase } from '#shared/dunning/charge.ts';
import type { CaseStore, Mailer } from '#shared/domain/ports.ts';
import { runNoticeStage } from '#shared/dunning/stages.ts';
import { flagCase, recoverCase, terminateCase } from '#shared/dunning/close.ts';
import { recordClose } from '#shared/dunning/close-entries.ts';
import { deliver, latestEvent, putInWorkingCard, renew, startTestRuntime, subjectsTo, subscribeWithDecliningCard, SUBJECTS, withDeliveriesPaused, type TestRuntime } from '../fixtures/scenario.ts';
import { openCase } from '#shared/dunning/failed-renewal.ts';
import type { Workflow } from '#shared/domain/ports-workflow.ts';
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

describe('a notice stage that crashes between moving the access and recording it', () => {
  it("records the change on the retry, once, so its Access Changed event is not lost", async () => {
    const c = await openCaseQuietly(t, 'Crash After Access');
    // The shipped policy limits access from day 7, as Notice3 runs.
    const deps = (store?: CaseStore) => realDeps(t, { onPolicyDay: 7, ...(store ? { store } : {}) });

    await expect(runNoticeStage(deps(crashingAt('access_changed')), c.invoiceId, 'Notice3')).rejects.toThrow(/killed/);
    expect((await realDeps(t).store.getCase(c.invoiceId))?.access?.level).toBe('limited');
    await runNoticeStage(deps(), c.invoiceId, 'Notice3');
    await runNoticeStage(deps(), c.invoiceId, 'Notice3');

    const changes = (await realDeps(t).store.listTimeline(c.invoiceId)).filter((e) => e.type === 'access_changed');
    expect(changes.map((e) => [e.facts?.previousAccess, e.facts?.access])).toEqual([['grace', 'limited']]);
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.notice3]);
  });
});

describe('a failed renewal whose delivery dies between opening the case and recording it', () => {
  it("records Case Opened and the opening access on Stripe's redelivery, once, and starts the execution", async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Crash At Open');
    const invoiceId = await withDeliveriesPaused(t.runtime, async () => {
      await renew(t.stripe, subscriber);
      return (await t.stripe.invoices.list({ subscription: subscriber.subscriptionId, status: 'open' })).data[0]!.id!;
    });
    const payload = await latestEvent(t.stripe, 'invoice.payment_failed', invoiceId);
    const notReached = {} as Workflow;

    await expect(openCase({ ...realDeps(t, { store: crashingAt('case_opened') }), workflow: notReached }, JSON.parse(payload))).rejects.toThrow(/killed/);
    expect((await realDeps(t).store.getCase(invoiceId))?.status).toBe('open');
    expect((await deliver(t.runtime, payload)).status).toBe(200);

    const opening = (await realDeps(t).store.listTimeline(invoiceId)).filter((e) => e.type === 'case_opened' || e.type === 'access_changed');
    expect(opening.map((e) => `${e.type} (${e.eventKey})`)).toEqual(['case_opened (opened)', 'access_changed (access/day-0)']);
    expect((await realDeps(t).store.getCase(invoiceId))?.executionArn).toBeTruthy();
  });
});

describe('a close that crashes between closing the case and recording it', () => {
  const closing = async (invoiceId: string) => {
    const entries = await realDeps(t).store.listTimeline(invoiceId);
    return entries
      .filter((e) => ['recovered', 'terminated', 'access_changed'].includes(e.type))
      .map((e) => (e.type === 'access_changed' ? `access ${String(e.facts?.access)} (${e.eventKey})` : `${e.type} (${e.eventKey})`));
  };

  it('records the recovery and its access change on the next call, once, and counts it then', async () => {
    const c = await openCaseQuietly(t, 'Crash After Close');
    await t.stripe.invoices.pay(c.invoiceId, { payment_method: 'pm_card_visa' });

    await expect(recoverCase(realDeps(t, { store: crashingAt('recovered') }), c.invoiceId, 'workflow_retry')).rejects.toThrow(/killed/);
    expect((await realDeps(t).store.getCase(c.invoiceId))?.status).toBe('recovered');
    const metrics = recordingMetrics();
    // The retried stage, then Stripe's invoice.paid: only the first finds anything missing.
    await recoverCase(realDeps(t, { metrics }), c.invoiceId, 'workflow_retry');
    await recoverCase(realDeps(t, { metrics }), c.invoiceId, 'invoice_paid');

    expect(await closing(c.invoiceId)).toEqual(['recovered (recovered)', 'access full (access/end)']);
    expect(metrics.of('CaseRecovered')).toEqual([{ name: 'CaseRecovered', dimensions: { RecoveredBy: 'workflow_retry' }, value: 1 }]);
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.recovered]);
  });

  it("counts and records a recovery once when Stripe's invoice.paid arrives while the closing call has yet to note its entry", async () => {
    const c = await openCaseQuietly(t, 'Close Races Repair');
    await t.stripe.invoices.pay(c.invoiceId, { payment_method: 'pm_card_visa' });
    // The closing call (retry-payment) stops just after writing its entry, before noting it on the
    // case: what the webhook's call sees then looks like an entry lost to a crash.
    let reachedMark!: () => void;
    const atMark = new Promise<void>((resolve) => (reachedMark = resolve));
    let goOn!: () => void;
    const held = new Promise<void>((resolve) => (goOn = resolve));
    const store = realDeps(t).store;
    const slowToNote = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'markRecorded') {
          return async (invoiceId: string, eventKey: string) => {
            if (eventKey === 'recovered') {
              reachedMark();
              await held;
            }
            return target.markRecorded(invoiceId, eventKey);
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });
    const metrics = recordingMetrics();

    const closing_ = recoverCase(realDeps(t, { store: slowToNote, metrics }), c.invoiceId, 'workflow_retry', { confirm: false });
    await atMark;
    await recoverCase(realDeps(t, { metrics }), c.invoiceId, 'invoice_paid');
    goOn();
    await closing_;

    expect(await closing(c.invoiceId)).toEqual(['recovered (recovered)', 'access full (access/end)']);
    expect(metrics.of('CaseRecovered')).toEqual([{ name: 'CaseRecovered', dimensions: { RecoveredBy: 'workflow_retry' }, value: 1 }]);
    expect(metrics.of('RecoveredAmount')).toHaveLength(1);
  });

  it('records the access change a recovery died before, when the recovery itself was recorded', async () => {
    const c = await openCaseQuietly(t, 'Crash Before Access');
    await t.stripe.invoices.pay(c.invoiceId, { payment_method: 'pm_card_visa' });

    await expect(recoverCase(realDeps(t, { store: crashingAt('access_changed') }), c.invoiceId, 'workflow_retry')).rejects.toThrow(/killed/);
    await recoverCase(realDeps(t), c.invoiceId, 'workflow_retry');

    expect(await closing(c.invoiceId)).toEqual(['recovered (recovered)', 'access full (access/end)']);
  });

  it('writes nothing again for a case opened before events existed, which notes no entries', async () => {
    const c = await openCaseQuietly(t, 'Old Case Paid');
    await t.stripe.invoices.pay(c.invoiceId, { payment_method: 'pm_card_visa' });
    await recoverCase(realDeps(t), c.invoiceId, 'workflow_retry');
    // As a case the version before closed: its close recorded, nothing noted on it.
    const legacy = { ...(await realDeps(t).store.getCase(c.invoiceId))!, eventsRecorded: undefined };

    expect(await recordClose(realDeps(t), undefined, legacy, false, new Date().toISOString(), { type: 'recovered', detail: 'paid' })).toBe(false);
    expect(await closing(c.invoiceId)).toEqual(['recovered (recovered)', 'access full (access/end)']);
  });

  it('records the termination on the retried Terminate, once, and still tells the customer once', async () => {
    const c = await openCaseQuietly(t, 'Crash After End');

    await expect(terminateCase(realDeps(t, { store: crashingAt('terminated') }), c.invoiceId)).rejects.toThrow(/killed/);
    expect((await realDeps(t).store.getCase(c.invoiceId))?.status).toBe('terminated');
    const metrics = recordingMetrics();
    await terminateCase(realDeps(t, { metrics }), c.invoiceId);
    await terminateCase(realDeps(t, { metrics }), c.invoiceId);

    expect(await closing(c.invoiceId)).toEqual(['terminated (terminated)', 'access none (access/end)']);
    expect(metrics.of('CaseTerminated')).toHaveLength(1);
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.ended]);
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

describe('a retry stage that waited while a card update charged the invoice', () => {
  // The retry stage holds the case it read before it met the pay lock; the card update's charge then
  // blocked the card. The block is read again under the lock, so the card is not charged twice.
  it('skips the card the other charge has just blocked, though the case it read before waiting had no block', async () => {
    const c = await openCaseQuietly(t, 'Blocked While Waiting');
    const deps = realDeps(t);
    const card = await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, c.customerId, 'pm_card_authenticationRequired'));

    const byCardUpdate = await chargeCase(deps, { ...c }, { holder: 'event:evt_card', idempotencyKey: 'card-update', paymentMethod: card, by: 'card_update' });
    const byRetry = await chargeCase(deps, { ...c }, { holder: 'Retry1', idempotencyKey: 'retry1', by: 'workflow' });

    expect(byCardUpdate).toMatchObject({ outcome: 'declined', code: 'invoice_payment_intent_requires_action' });
    expect(byRetry).toEqual({ outcome: 'skipped', code: 'authentication_required' });
    expect((await deps.store.getCase(c.invoiceId))?.chargeAttempts?.map((a) => [a.by, a.card])).toEqual([['card_update', card]]);
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

describe('a stage whose subscription was canceled in Stripe, its webhook not yet come', () => {
  // Stripe keeps a canceled subscription's invoice open, but stops collecting it
  // (docs.stripe.com/api/subscriptions/cancel): its customer.subscription.deleted may come late
  // (retried deliveries) or never, and no notice or charge of ours may go out meanwhile.
  it('closes the case instead of sending the next notice', async () => {
    const c = await openCaseQuietly(t, 'Canceled Before Notice');
    await withDeliveriesPaused(t.runtime, () => t.stripe.subscriptions.cancel(c.subscriptionId!));

    await expect(runNoticeStage(realDeps(t), c.invoiceId, 'Notice1')).rejects.toBeInstanceOf(CaseClosedError);

    expect(await realDeps(t).store.getCase(c.invoiceId)).toMatchObject({ status: 'closed', closedReason: 'subscription canceled in Stripe' });
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([]);
  });

  it('charges neither by a retry nor with a card put in after, and leaves the invoice open', async () => {
    const c = await openCaseQuietly(t, 'Canceled Before Retry');
    await withDeliveriesPaused(t.runtime, () => t.stripe.subscriptions.cancel(c.subscriptionId!));
    const card = await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, c.customerId));
    const deps = realDeps(t);

    await expect(chargeCase(deps, { ...c }, { holder: 'event:evt_card', idempotencyKey: 'card-after-cancel', paymentMethod: card, by: 'card_update' })).rejects.toBeInstanceOf(CaseClosedError);
    await expect(chargeCase(deps, { ...c }, { holder: 'Retry1', idempotencyKey: 'retry-after-cancel', by: 'workflow' })).rejects.toBeInstanceOf(CaseClosedError);

    expect(await deps.store.getCase(c.invoiceId)).toMatchObject({ status: 'closed', closedReason: 'subscription canceled in Stripe' });
    expect((await deps.store.getCase(c.invoiceId))?.chargeAttempts ?? []).toEqual([]);
    expect(await t.stripe.invoices.retrieve(c.invoiceId)).toMatchObject({ status: 'open', attempt_count: 1 });
  });
});

describe('Terminate and a subscription cancelled elsewhere, its webhook late', () => {
  it('closes the case as cancelled in Stripe and sends no end email: the customer ended it, not the policy', async () => {
    const c = await openCaseQuietly(t, 'Cancelled Themselves');
    await withDeliveriesPaused(t.runtime, () => t.stripe.subscriptions.cancel(c.subscriptionId!));

    await expect(terminateCase(realDeps(t), c.invoiceId)).rejects.toMatchObject({ name: 'CaseClosedError', status: 'closed' });

    expect(await realDeps(t).store.getCase(c.invoiceId)).toMatchObject({ status: 'closed', closedReason: 'subscription canceled in Stripe' });
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([]);
  });

  it('still ends a case whose own cancel went through before a crash: the retried Terminate knows its cancel and tells the customer once', async () => {
    const c = await openCaseQuietly(t, 'Crashed After Cancel');
    const store = realDeps(t).store;
    let crashed = false;
    const crashOnce = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'closeCase') {
          return async (...args: Parameters<CaseStore['closeCase']>) => {
            if (args[1] === 'terminated' && !crashed) {
              crashed = true;
              throw new Error('Runtime exited with error: signal: killed');
            }
            return target.closeCase(...args);
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });

    await expect(terminateCase(realDeps(t, { store: crashOnce }), c.invoiceId)).rejects.toThrow(/killed/);
    expect((await t.stripe.subscriptions.retrieve(c.subscriptionId!)).status).toBe('canceled');
    await terminateCase(realDeps(t, { store: crashOnce }), c.invoiceId);

    expect((await store.getCase(c.invoiceId))?.status).toBe('terminated');
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.ended]);
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

  it('is recorded by the retried flag-case when the first died before its entry, once, with the first error', async () => {
    const c = await openCaseQuietly(t, 'Flag Crash');
    const error = { name: 'StripeUnavailableError', message: 'Stripe answered 503 six times' };

    await expect(flagCase(realDeps(t, { store: crashingAt('flagged') }), c.invoiceId, error, 'Retry2')).rejects.toThrow(/killed/);
    const metrics = recordingMetrics();
    expect(await flagCase(realDeps(t, { metrics }), c.invoiceId, error, 'Retry2')).toBe(true);
    expect(await flagCase(realDeps(t, { metrics }), c.invoiceId, error, 'Retry2')).toBe(false);

    const flags = (await realDeps(t).store.listTimeline(c.invoiceId)).filter((e) => e.type === 'flagged');
    expect(flags.map((e) => [e.stage, e.facts?.errorName, e.eventKey?.startsWith('flagged/')])).toEqual([['Retry2', 'StripeUnavailableError', true]]);
    expect(metrics.names()).toEqual(['NeedsAttention']);
  });
});
