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

/** What the customer does in the portal: detaches their default card, leaving none. Returns the card. */
async function removeCard(customerId: string): Promise<string> {
  const customer = (await t.stripe.customers.retrieve(customerId)) as Stripe.Customer;
  const card = customer.invoice_settings.default_payment_method as string;
  await t.stripe.paymentMethods.detach(card);
  return card;
}

/** The timeline's record of each removal. */
const removals = async (invoiceId: string) =>
  (await t.runtime.store.listTimeline(invoiceId)).filter((e) => e.type === 'card_removed').map((e) => e.detail);

const steps = (invoiceId: string) => retrySteps(t.runtime, invoiceId);

/** Waits for the case's execution to end (a failed stage, or its end). */
const executionEnd = (invoiceId: string) =>
  waitFor(async () => {
    const execution = t.runtime.stepFunctions.executions.get(executionArn(invoiceId));
    return execution && execution.status !== 'RUNNING' ? execution : undefined;
  }, 20_000, 'the execution to end');

describe('a customer who removes their card mid-sequence', () => {
  // Stripe says so with payment_method.detached alone, naming the customer in previous_attributes
  // (docs.stripe.com/api/events/types#event_types-payment_method.detached).
  it('gets every notice and the end: the removal is recorded, each charge is a no_payment_method decline, and the webhook answers 200', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Removes Card');
    let removal: Awaited<ReturnType<typeof deliver>> | undefined;
    let card = '';
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state !== 'Notice1' || error) return;
      // Knowing there is no card, nothing asks Stripe to pay: were it asked, it would fail.
      t.runtime.sandbox!.injectFault({ method: 'POST', path: /^\/v1\/invoices\/[^/]+\/pay$/, status: 500, count: 1000 });
      // Delivered by hand, so the test reads the webhook's own answer to the payment_method.detached.
      card = await withDeliveriesPaused(t.runtime, () => removeCard(subscriber.customerId));
      removal = await deliver(t.runtime, await latestEvent(t.stripe, 'payment_method.detached', card));
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId).finally(() => t.runtime.sandbox!.clearFaults());
    await t.runtime.stepFunctions.idle();

    expect(removal).toMatchObject({ status: 200, body: { action: 'card_removed', paymentMethod: card, invoiceIds: [dunningCase.invoiceId] } });
    expect(await removals(dunningCase.invoiceId)).toEqual([`${card}: payment_method.detached`]);
    expect(await steps(dunningCase.invoiceId)).toEqual([
      'retry_declined:Retry1:no_payment_method',
      'retry_declined:Retry2:no_payment_method',
      'retry_declined:Retry3:no_payment_method',
    ]);
    expect(dunningCase.status).toBe('terminated');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
    // Only the renewal's own attempt reached a card: nothing was sent to Stripe that it could only refuse.
    expect((await t.stripe.invoices.retrieve(dunningCase.invoiceId)).attempt_count).toBe(1);
  });

  it('never charges a detached card that the invoice still names', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Removes Invoice Card');
    // A spare card saved before the renewal (no case yet, so its attach charges nothing).
    const card = (await t.stripe.paymentMethods.attach('pm_card_visa', { customer: subscriber.customerId })).id;
    await t.runtime.sandbox!.idle();
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state !== 'Notice1' || error) return;
      await withDeliveriesPaused(t.runtime, async () => {
        await t.stripe.invoices.update(dunningCase.invoiceId, { default_payment_method: card });
        await t.stripe.paymentMethods.detach(card);
      });
      await deliver(t.runtime, await latestEvent(t.stripe, 'payment_method.detached', card));
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();

    expect(await removals(dunningCase.invoiceId)).toEqual([`${card}: payment_method.detached`]);
    expect(dunningCase).toMatchObject({ status: 'terminated', blockedPaymentMethod: { id: card, code: 'payment_method_detached' } });
    expect(await steps(dunningCase.invoiceId)).toEqual([
      'retry_skipped:Retry1:same card, payment_method_detached',
      'retry_skipped:Retry2:same card, payment_method_detached',
      'retry_skipped:Retry3:same card, payment_method_detached',
    ]);
    expect((await t.stripe.charges.list({ customer: subscriber.customerId })).data.filter((c) => c.payment_method === card)).toHaveLength(0);
  });

  // Events arrive in no guaranteed order: a retry may reach the card before its payment_method.detached.
  it('blocks a detached card the invoice names when Stripe refuses it before the event arrives, and goes on', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Detached Unannounced');
    const card = (await t.stripe.paymentMethods.attach('pm_card_visa', { customer: subscriber.customerId })).id;
    await t.runtime.sandbox!.idle();
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state !== 'Notice1' || error) return;
      // Its payment_method.detached is never delivered.
      await withDeliveriesPaused(t.runtime, async () => {
        await t.stripe.invoices.update(dunningCase.invoiceId, { default_payment_method: card });
        await t.stripe.paymentMethods.detach(card);
      });
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();

    expect(dunningCase).toMatchObject({ status: 'terminated', blockedPaymentMethod: { id: card, code: 'payment_method_detached' } });
    expect(await steps(dunningCase.invoiceId)).toEqual([
      'retry_declined:Retry1:payment_method_detached',
      'retry_skipped:Retry2:retry skipped: the card was removed; waiting for a new card',
      'retry_skipped:Retry3:retry skipped: the card was removed; waiting for a new card',
    ]);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
  });

  // Should Stripe say it with customer.updated instead, the removal is the same.
  it('records a default cleared by customer.updated as a removal, and charges nothing for it', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Clears Default');
    let removal: Awaited<ReturnType<typeof deliver>> | undefined;
    let card = '';
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state !== 'Notice1' || error) return;
      await withDeliveriesPaused(t.runtime, async () => {
        card = ((await t.stripe.customers.retrieve(subscriber.customerId)) as Stripe.Customer).invoice_settings.default_payment_method as string;
        await t.stripe.customers.update(subscriber.customerId, { invoice_settings: { default_payment_method: '' } });
      });
      removal = await deliver(t.runtime, await latestEvent(t.stripe, 'customer.updated', subscriber.customerId));
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();

    expect(removal).toMatchObject({ status: 200, body: { action: 'card_removed', paymentMethod: card } });
    expect(await removals(dunningCase.invoiceId)).toEqual([`${card}: customer.updated`]);
    // Still the customer's card, so not blocked; with no default left, nothing to charge.
    expect(dunningCase.blockedPaymentMethod).toBeUndefined();
    expect(await steps(dunningCase.invoiceId)).toEqual([
      'retry_declined:Retry1:no_payment_method',
      'retry_declined:Retry2:no_payment_method',
      'retry_declined:Retry3:no_payment_method',
    ]);
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
