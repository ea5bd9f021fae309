// A customer who removes their card mid-sequence: every charge finds nothing to charge and says so,
// the sequence goes on to its end, and a card they put in later is charged at once, even on a case
// flagged needs_attention. A paused case, or one flagged while its end action ran, is not charged.
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STATE_MACHINE_ARN } from '#local/runtime.ts';
import { executionArnFor } from '#shared/adapters/sfn-workflow.ts';
import { systemClock } from '#shared/domain/ports.ts';
import { flagCase } from '#shared/dunning/close.ts';
import { noMetrics, silentLog } from '#shared/dunning/deps.ts';
import { pauseCase } from '#shared/dunning/pause.ts';
import {
  closedCase,
  deliver,
  latestEvent,
  putInWorkingCard,
  renew,
  retrySteps,
  startTestRuntime,
  subjectsOnceThanked,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  withDeliveriesPaused,
  type TestRuntime,
} from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  // Faults on purpose: Stripe answers 500 to every pay call, so a case is flagged (and any pay call
  // that should not happen would fail a stage).
  t = await startTestRuntime({ dayMs: 100, expectAlarms: ['ExecutionsFailed', 'RetryPaymentErrors', 'CloseCaseErrors', 'NeedsAttention'] });
});
afterAll(async () => {
  await t?.close();
});

const operator = () => ({ store: t.runtime.store, clock: systemClock, log: silentLog, metrics: noMetrics });
const executionArn = (invoiceId: string) => executionArnFor(LOCAL_STATE_MACHINE_ARN, invoiceId);

/** What the customer does in the portal: detaches their default card, leaving none. */
async function removeCard(customerId: string): Promise<void> {
  const customer = (await t.stripe.customers.retrieve(customerId)) as Stripe.Customer;
  await t.stripe.paymentMethods.detach(customer.invoice_settings.default_payment_method as string);
}

const steps = (invoiceId: string) => retrySteps(t.runtime, invoiceId);

/** Waits for the case's execution to end (a failed stage, or its end). */
const executionEnd = (invoiceId: string) =>
  waitFor(async () => {
    const execution = t.runtime.stepFunctions.executions.get(executionArn(invoiceId));
    return execution && execution.status !== 'RUNNING' ? execution : undefined;
  }, 20_000, 'the execution to end');

describe('a customer who removes their card mid-sequence', () => {
  it('gets every notice and the end: each charge is a no_payment_method decline, and the webhook answers 200', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Removes Card');
    let removal: Awaited<ReturnType<typeof deliver>> | undefined;
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state !== 'Notice1' || error) return;
      // Knowing there is no card, nothing asks Stripe to pay: were it asked, it would fail.
      t.runtime.sandbox!.injectFault({ method: 'POST', path: /^\/v1\/invoices\/[^/]+\/pay$/, status: 500, count: 1000 });
      // Delivered by hand, so the test reads the webhook's own answer to the customer.updated.
      await withDeliveriesPaused(t.runtime, () => removeCard(subscriber.customerId));
      removal = await deliver(t.runtime, await latestEvent(t.stripe, 'customer.updated', subscriber.customerId));
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId).finally(() => t.runtime.sandbox!.clearFaults());
    await t.runtime.stepFunctions.idle();

    expect(removal).toMatchObject({ status: 200, body: { action: 'card_update_retried', outcomes: [{ outcome: 'declined' }] } });
    expect(await steps(dunningCase.invoiceId)).toEqual([
      'retry_declined:CardUpdated:no_payment_method',
      'retry_declined:Retry1:no_payment_method',
      'retry_declined:Retry2:no_payment_method',
      'retry_declined:Retry3:no_payment_method',
    ]);
    expect(dunningCase.status).toBe('terminated');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
    // Only the renewal's own attempt reached a card: nothing was sent to Stripe that it could only refuse.
    expect((await t.stripe.invoices.retrieve(dunningCase.invoiceId)).attempt_count).toBe(1);
  });

  it('has a card put in later charged at once, and the case recovers', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Removes Then Adds');
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice1' && !error) await removeCard(subscriber.customerId);
      if (state === 'Notice2' && !error) await putInWorkingCard(t.stripe, subscriber.customerId);
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    const sent = await subjectsOnceThanked(t.runtime, subscriber.email);

    expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy: 'card_updated' });
    expect(await steps(dunningCase.invoiceId)).toEqual([
      'retry_declined:CardUpdated:no_payment_method',
      'retry_declined:Retry1:no_payment_method',
      'retry_paid:CardUpdated:payment_method.attached',
    ]);
    expect(sent).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.recovered]);
  });
});

describe('a card on the subscription alone, as Checkout leaves it', () => {
  it('is what a retry charges when the customer has no default of their own', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Card On Subscription');
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state !== 'Notice1' || error) return;
      // Unheard of, so the scheduled Retry1 is the charge that finds it.
      await withDeliveriesPaused(t.runtime, async () => {
        const card = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: subscriber.customerId });
        await t.stripe.subscriptions.update(subscriber.subscriptionId, { default_payment_method: card.id });
        await removeCard(subscriber.customerId);
      });
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);

    expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy: 'workflow_retry', stage: 'Retry1' });
    expect(await steps(dunningCase.invoiceId)).toEqual(['retry_paid:Retry1']);
  });
});

describe('a new card on a case flagged needs_attention', () => {
  it('is charged at once, and the case recovers with its confirmation', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Flagged Then Adds');
    t.onStage(subscriber.customerId, ({ state, error }) => {
      if (state === 'Notice1' && !error) {
        t.runtime.sandbox!.injectFault({ method: 'POST', path: /^\/v1\/invoices\/[^/]+\/pay$/, status: 500, count: 1000 });
      }
    });
    await renew(t.stripe, subscriber);
    const flagged = await closedCase(t.runtime, subscriber.subscriptionId);
    await executionEnd(flagged.invoiceId);
    t.runtime.sandbox!.clearFaults();

    await putInWorkingCard(t.stripe, subscriber.customerId);
    const recovered = await waitFor(async () => {
      const c = await t.runtime.store.getCase(flagged.invoiceId);
      return c?.status === 'recovered' ? c : undefined;
    }, 5000, 'the flagged case to recover');
    const sent = await subjectsOnceThanked(t.runtime, subscriber.email);

    expect(flagged.status).toBe('needs_attention');
    expect(recovered.recoveredBy).toBe('card_updated');
    expect(await steps(flagged.invoiceId)).toEqual(['retry_paid:CardUpdated:payment_method.attached']);
    expect(sent).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
  });

  it('is not charged when an operator paused the case before it was flagged', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Paused Then Flagged');
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state !== 'Notice1' || error) return;
      await pauseCase(operator(), dunningCase);
      await flagCase(operator(), dunningCase.invoiceId, { name: 'OperatorCheck', message: 'flagged while paused' });
    });
    await renew(t.stripe, subscriber);
    const flagged = await closedCase(t.runtime, subscriber.subscriptionId);
    await executionEnd(flagged.invoiceId);

    await putInWorkingCard(t.stripe, subscriber.customerId);
    await t.runtime.sandbox!.idle();

    expect(await t.runtime.store.getCase(flagged.invoiceId)).toMatchObject({ status: 'needs_attention' });
    expect((await t.stripe.invoices.retrieve(flagged.invoiceId)).status).toBe('open');
    expect(await steps(flagged.invoiceId)).toContain('retry_skipped:CardUpdated:case paused by operator');
    expect(await steps(flagged.invoiceId)).not.toContainEqual(expect.stringMatching(/^retry_(paid|declined)/));
  });

  it('is not charged when the case was flagged while its end action ran', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Flagged At End');
    t.onStage(subscriber.customerId, ({ state, error }) => {
      if (state === 'Notice3' && !error) {
        t.runtime.sandbox!.injectFault({ method: 'DELETE', path: /^\/v1\/subscriptions\/[^/]+$/, status: 500, count: 1000 });
      }
    });
    await renew(t.stripe, subscriber);
    const flagged = await closedCase(t.runtime, subscriber.subscriptionId);
    await executionEnd(flagged.invoiceId);
    t.runtime.sandbox!.clearFaults();

    await putInWorkingCard(t.stripe, subscriber.customerId);
    await t.runtime.sandbox!.idle();

    expect(flagged).toMatchObject({ status: 'needs_attention', stage: 'Terminate' });
    expect((await t.stripe.invoices.retrieve(flagged.invoiceId)).status).toBe('open');
    expect(await steps(flagged.invoiceId)).toContain('retry_skipped:CardUpdated:case flagged at Terminate');
    expect(await steps(flagged.invoiceId)).not.toContainEqual(expect.stringMatching(/^retry_paid/));
  });
});
