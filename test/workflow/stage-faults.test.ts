// Faults inside a stage, injected where the local services cannot produce them: a crash after SES
// took the email, a throttled send, a rejected address. Everything else is the real adapters
// against dynalite, SES v2 and the Stripe sandbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDocumentClient, createSesClient } from '#shared/adapters/aws-clients.ts';
import { DynamoCaseStore } from '#shared/adapters/dynamodb-case-store.ts';
import { SesMailer } from '#shared/adapters/ses-mailer.ts';
import { StripeGateway } from '#shared/adapters/stripe-gateway.ts';
import type { DunningCase } from '#shared/domain/case.ts';
import { CaseClosedError, EmailRejectedError, EmailThrottledError } from '#shared/domain/errors.ts';
import { systemClock, type CaseStore, type Mailer } from '#shared/domain/ports.ts';
import { silentLog, noMetrics, type DunningDeps } from '#shared/dunning/deps.ts';
import { runNoticeStage } from '#shared/dunning/stages.ts';
import { recoverCase } from '#shared/dunning/close.ts';
import { addDays } from '#shared/notices/format.ts';
import { renew, startTestRuntime, subjectsTo, subscribeWithDecliningCard, SUBJECTS, type TestRuntime } from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ dayMs: 60_000 });
});
afterAll(async () => {
  await t?.close();
});

function realDeps(overrides: { store?: CaseStore; mailer?: Mailer } = {}): DunningDeps {
  const store = new DynamoCaseStore(createDynamoDocumentClient({}), t.runtime.config.tableName);
  return {
    policy: t.runtime.policy,
    store: overrides.store ?? store,
    stripe: new StripeGateway(t.stripe),
    mailer: overrides.mailer ?? new SesMailer(createSesClient({}), { sender: t.runtime.config.sender }),
    clock: systemClock,
    log: silentLog,
    metrics: noMetrics,
  };
}

/** A real failed renewal whose case the test opens itself, with no execution running it. */
async function openCaseQuietly(name: string): Promise<DunningCase> {
  const subscriber = await subscribeWithDecliningCard(t.stripe, name);
  const sandbox = t.runtime.sandbox!;
  sandbox.setWebhook(undefined);
  try {
    await renew(t.stripe, subscriber);
    await sandbox.idle();
  } finally {
    sandbox.setWebhook({ url: t.runtime.urls.webhook, secret: t.runtime.config.webhookSecret });
  }
  const [invoice] = (await t.stripe.invoices.list({ subscription: subscriber.subscriptionId, status: 'open' })).data;
  const now = new Date().toISOString();
  const dunningCase: DunningCase = {
    invoiceId: invoice!.id!,
    customerId: subscriber.customerId,
    subscriptionId: subscriber.subscriptionId,
    status: 'open',
    amountDue: { amount: invoice!.amount_due, currency: invoice!.currency },
    customerEmail: subscriber.email,
    customerName: name,
    livemode: false,
    failedAt: now,
    terminatesAt: addDays(now, 14),
    executionName: invoice!.id!,
    noticesSent: [],
    createdAt: now,
    updatedAt: now,
  };
  await realDeps().store.createCase(dunningCase);
  return dunningCase;
}

/** A store that dies once at the given timeline entry, as a Lambda killed at that line would. */
function crashingAt(type: string): CaseStore {
  const store = realDeps().store;
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
  it('sends no second email when the state machine retries it', async () => {
    const c = await openCaseQuietly('Crash After Send');

    await expect(runNoticeStage(realDeps({ store: crashingAt('notice_sent') }), c.invoiceId, 'Notice1')).rejects.toThrow(/killed/);
    const retried = await runNoticeStage(realDeps(), c.invoiceId, 'Notice1');

    expect(retried.outcome).toBe('already_sent');
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.notice1]);
  });

  it('sends no second confirmation when recovery crashes after SES took it', async () => {
    const c = await openCaseQuietly('Crash After Thanks');
    await t.stripe.invoices.pay(c.invoiceId, { payment_method: 'pm_card_visa' });

    await expect(recoverCase(realDeps({ store: crashingAt('confirmation_sent') }), c.invoiceId, 'workflow_retry')).rejects.toThrow(/killed/);
    await recoverCase(realDeps(), c.invoiceId, 'workflow_retry');

    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.recovered]);
  });
});

describe('a notice stage whose send SES throttles', () => {
  it('gives the claim back, so the retry sends the notice exactly once', async () => {
    const c = await openCaseQuietly('Throttled Once');
    const real = realDeps().mailer;
    let calls = 0;
    const throttledOnce: Mailer = {
      send: (message) => (++calls === 1 ? Promise.reject(new EmailThrottledError('Maximum sending rate exceeded.')) : real.send(message)),
    };

    await expect(runNoticeStage(realDeps({ mailer: throttledOnce }), c.invoiceId, 'Notice1')).rejects.toBeInstanceOf(EmailThrottledError);
    const retried = await runNoticeStage(realDeps({ mailer: throttledOnce }), c.invoiceId, 'Notice1');

    expect(retried.outcome).toBe('sent');
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.notice1]);
  });
});

describe('a notice SES rejects for good', () => {
  it('records the notice as undeliverable on the case and lets the sequence go on', async () => {
    const c = await openCaseQuietly('Suppressed Address');
    const rejecting: Mailer = { send: () => Promise.reject(new EmailRejectedError('Email address is on the suppression list')) };

    const result = await runNoticeStage(realDeps({ mailer: rejecting }), c.invoiceId, 'Notice1');
    const timeline = await realDeps().store.listTimeline(c.invoiceId);

    expect(result.outcome).toBe('undeliverable');
    expect(timeline).toContainEqual(expect.objectContaining({ type: 'notice_undeliverable', stage: 'Notice1', detail: expect.stringMatching(/suppression/) }));
    expect((await realDeps().store.getCase(c.invoiceId))?.status).toBe('open');
  });
});

describe('a stage whose invoice Stripe has ended without telling us', () => {
  it('closes the case with the reason and stands down instead of sending the notice', async () => {
    const c = await openCaseQuietly('Voided Quietly');
    const sandbox = t.runtime.sandbox!;
    sandbox.setWebhook(undefined);
    try {
      await t.stripe.invoices.voidInvoice(c.invoiceId);
      await sandbox.idle();
    } finally {
      sandbox.setWebhook({ url: t.runtime.urls.webhook, secret: t.runtime.config.webhookSecret });
    }

    await expect(runNoticeStage(realDeps(), c.invoiceId, 'Notice1')).rejects.toBeInstanceOf(CaseClosedError);

    expect(await realDeps().store.getCase(c.invoiceId)).toMatchObject({ status: 'closed', closedReason: 'invoice voided in Stripe' });
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([]);
  });
});
