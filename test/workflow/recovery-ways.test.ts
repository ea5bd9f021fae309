// Every way a case can be recovered is recorded as how it was paid, with one confirmation and the
// banner cleared: our retry and the card-update charge are covered in paths.test.ts; these are the
// ways that happen outside the product.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DunningCase, RecoveredBy } from '#shared/domain/case.ts';
import { runNoticeStage } from '#shared/dunning/stages.ts';
import {
  caseFor,
  closedCase,
  deliver,
  latestEvent,
  putInWorkingCard,
  renew,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  withDeliveriesPaused,
  startTestRuntime,
  type Subscriber,
  type TestRuntime,
} from '../fixtures/scenario.ts';
import { openCaseQuietly, realDeps } from '../fixtures/stage-deps.ts';
import { definitionBeforeStandDown } from '../fixtures/earlier-definition.ts';
import { startEngine } from '../fixtures/engine.ts';

const DAY = 86_400;
let t: TestRuntime;
beforeAll(async () => {
  // Days last a minute, so the sequence stands still while each test pays; the sandbox account
  // has Stripe's automatic retries on, one day after a failure.
  t = await startTestRuntime({ dayMs: 60_000, stripeRetryDays: [1] });
});
afterAll(async () => {
  await t?.close();
});

/** A failed renewal whose first notice (and banner) has gone out. */
async function openCase(name: string): Promise<{ subscriber: Subscriber; dunningCase: DunningCase }> {
  const subscriber = await subscribeWithDecliningCard(t.stripe, name);
  await renew(t.stripe, subscriber);
  await waitFor(async () => (await subjectsTo(t.runtime, subscriber.email)).includes(SUBJECTS.notice1), 10_000, 'notice 1');
  const dunningCase = (await caseFor(t.runtime, subscriber.subscriptionId))!;
  expect(await t.runtime.store.getBanner(subscriber.customerId)).toBeDefined();
  return { subscriber, dunningCase };
}

async function expectRecovered(subscriber: Subscriber, recoveredBy: RecoveredBy): Promise<void> {
  const closed = await closedCase(t.runtime, subscriber.subscriptionId, 10_000);
  await waitFor(async () => (await subjectsTo(t.runtime, subscriber.email)).includes(SUBJECTS.recovered), 5000, 'the confirmation');
  await new Promise((resolve) => setTimeout(resolve, 300)); // a second confirmation would show up by now
  // Another event of the same payment (the card it saved) may close the case first; invoice.paid
  // then says how it was paid. A wrong answer never settles, and times out here.
  const dunningCase = await waitFor(async () => {
    const c = await t.runtime.store.getCase(closed.invoiceId);
    return c?.recoveredBy === recoveredBy ? c : undefined;
  }, 5000, `recoveredBy ${recoveredBy}`).catch(() => t.runtime.store.getCase(closed.invoiceId));

  expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy });
  expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
  expect(await t.runtime.store.getBanner(subscriber.customerId)).toBeUndefined();
}

/** What the customer's browser does on the hosted invoice page: pay with a test card. */
async function payOnHostedPage(invoiceId: string): Promise<void> {
  const response = await fetch(`${t.runtime.urls.stripe}/i/${invoiceId}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ card: 'pm_card_visa' }),
  });
  expect(await response.text()).toContain('Payment successful.');
}

describe('a case recovered outside the product', () => {
  it("records Stripe's own automatic retry as stripe_retry", async () => {
    const { subscriber } = await openCase('Stripe Retry Pays');
    // A new card Stripe alone hears of: its retry a day later takes the payment.
    await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, subscriber.customerId));
    await t.stripe.testHelpers.testClocks.advance(subscriber.clockId, { frozen_time: subscriber.periodEnd + 3600 + DAY + 60 });

    await expectRecovered(subscriber, 'stripe_retry');
  });

  it('records the customer paying the hosted invoice page as customer_payment', async () => {
    const { subscriber, dunningCase } = await openCase('Hosted Page Pays');

    await payOnHostedPage(dunningCase.invoiceId);

    await expectRecovered(subscriber, 'customer_payment');
  });

  it('records an invoice marked paid outside Stripe as out_of_band', async () => {
    const { subscriber, dunningCase } = await openCase('Pays By Transfer');

    await t.stripe.invoices.pay(dunningCase.invoiceId, { paid_out_of_band: true });

    await expectRecovered(subscriber, 'out_of_band');
  });

  it('refines a payment a stage saw before its webhook once the webhook arrives', async () => {
    const { subscriber, dunningCase } = await openCase('Stage Sees It First');
    await withDeliveriesPaused(t.runtime, () => payOnHostedPage(dunningCase.invoiceId));

    // The next stage reads the invoice before invoice.paid is processed: how it was paid is unknown.
    await expect(runNoticeStage(realDeps(t, { onPolicyDay: 3 }), dunningCase.invoiceId, 'Notice2')).rejects.toMatchObject({ name: 'CaseClosedError' });
    expect(await t.runtime.store.getCase(dunningCase.invoiceId)).toMatchObject({ status: 'recovered', recoveredBy: 'invoice_paid' });

    expect((await deliver(t.runtime, await latestEvent(t.stripe, 'invoice.paid', dunningCase.invoiceId))).status).toBe(200);
    await expectRecovered(subscriber, 'customer_payment');
  });
});

describe('a retry stage that finds the invoice paid already', () => {
  // retry-payment runs as deployed: no sender and no SES grant, so a send of its own would fail the task.

  it.each([
    ['this definition', 'marked paid out of band', 'out_of_band'],
    ['this definition', 'paid on the hosted page', 'customer_payment'],
    ['the earlier definition', 'marked paid out of band', 'out_of_band'],
    ['the earlier definition', 'paid on the hosted page', 'customer_payment'],
  ] as const)('under %s, %s: sends nothing itself, and RecoverCase recovers the case as paid, with one thank-you', async (which, how, recoveredBy) => {
    const dunningCase = await openCaseQuietly(t, `${how === 'marked paid out of band' ? 'Transfer' : 'Hosted'} Before ${which === 'this definition' ? 'Retry' : 'Old Retry'}`);
    await withDeliveriesPaused(t.runtime, () =>
      how === 'marked paid out of band' ? t.stripe.invoices.pay(dunningCase.invoiceId, { paid_out_of_band: true }).then(() => undefined) : payOnHostedPage(dunningCase.invoiceId),
    );
    const engine = await startEngine(t, which === 'this definition' ? t.runtime.definition : definitionBeforeStandDown());

    try {
      const execution = engine.start(dunningCase.invoiceId, 'Retry1');
      await engine.stepFunctions.idle();

      expect(engine.tasks.filter((task) => task.error)).toEqual([]);
      expect(t.runtime.lambda.spec('retry-payment').environment).not.toHaveProperty('DUNNING_SENDER');
      expect(engine.tasks.find((task) => task.state === 'Retry1')?.output).toMatchObject({ outcome: 'paid', recoveredBy: how === 'marked paid out of band' ? 'out_of_band' : 'invoice_paid' });
      expect(execution.status).toBe('SUCCEEDED');
      expect(engine.statesOf(execution)).toEqual(['Retry1', 'Retry1Paid', 'RecoverCase', 'Recovered']);
    } finally {
      await engine.close();
    }
    // A stage saw the payment before its webhook: invoice_paid, refined when invoice.paid arrives.
    if (how === 'paid on the hosted page') {
      expect(await t.runtime.store.getCase(dunningCase.invoiceId)).toMatchObject({ recoveredBy: 'invoice_paid' });
      expect((await deliver(t.runtime, await latestEvent(t.stripe, 'invoice.paid', dunningCase.invoiceId))).status).toBe(200);
    }
    expect(await t.runtime.store.getCase(dunningCase.invoiceId)).toMatchObject({ status: 'recovered', recoveredBy });
    expect(await subjectsTo(t.runtime, dunningCase.customerEmail!)).toEqual([SUBJECTS.recovered]);
    expect(await t.runtime.store.getBanner(dunningCase.customerId)).toBeUndefined();
  });
});
