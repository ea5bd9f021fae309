// Runs the generated definition in aws-local-stepfunctions with the real stage handlers, the Stripe
// sandbox, dynalite and SES v2 on loopback, through every path a case can take.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STATE_MACHINE_ARN } from '#local/runtime.ts';
import { executionArnFor } from '#shared/adapters/sfn-workflow.ts';
import {
  closedCase,
  putInWorkingCard,
  renew,
  settled,
  startTestRuntime,
  subjectsOnceThanked,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  withDeliveriesPaused,
  type TestRuntime,
} from '../fixtures/scenario.ts';

const executionArn = (invoiceId: string) => executionArnFor(LOCAL_STATE_MACHINE_ARN, invoiceId);

let t: TestRuntime;
beforeAll(async () => {
  // Faults on purpose: Stripe answers 503s on purpose: stages fail and retry, and one execution fails for good.
  t = await startTestRuntime({ dayMs: 100, expectAlarms: ['ExecutionsFailed', 'RetryPaymentErrors', 'CloseCaseErrors', 'NeedsAttention'] });
});
afterAll(async () => {
  await t?.close();
});

describe('a failed renewal whose card starts working without us hearing of it', () => {
  it.each([
    ['Notice1', 'Retry1', [SUBJECTS.notice1, SUBJECTS.recovered]],
    ['Notice2', 'Retry2', [SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.recovered]],
    ['Notice3', 'Retry3', [SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.recovered]],
  ])('is recovered by the scheduled retry after %s and is sent nothing more', async (fixAfter, recoveringRetry, expected) => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, `Fixes After ${fixAfter}`);
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      // The card-update events are lost, so only the scheduled retry can notice the new card.
      if (state === fixAfter && !error) await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, subscriber.customerId));
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();

    expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy: 'workflow_retry', stage: recoveringRetry });
    // The case closes before its thank-you goes out, and when invoice.paid wins, the webhook sends it,
    // which the execution's end does not wait for: wait for it, then for everything to settle.
    expect(await subjectsOnceThanked(t.runtime, subscriber.email)).toEqual(expected);
    await settled(t.runtime);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual(expected);
    expect((await t.stripe.subscriptions.retrieve(subscriber.subscriptionId)).status).toBe('active');
    expect((await t.stripe.invoices.retrieve(dunningCase.invoiceId)).status).toBe('paid');
    expect(await t.runtime.store.getBanner(subscriber.customerId)).toBeUndefined();
    // RecoverCase ends it (SUCCEEDED), unless the payment's invoice.paid reached the webhook first,
    // which closes the case and stops the execution (ABORTED): in AWS either can win, and both are right.
    expect(['SUCCEEDED', 'ABORTED']).toContain(t.runtime.stepFunctions.executions.get(executionArn(dunningCase.invoiceId))?.status);
  });
});

describe('a failed renewal that is never fixed', () => {
  it('sends the three notices and the ending email, cancels the subscription and terminates the case', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Never Fixes');

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();

    expect(dunningCase.status).toBe('terminated');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([
      SUBJECTS.notice1,
      SUBJECTS.notice2,
      SUBJECTS.notice3,
      SUBJECTS.ended,
    ]);
    expect((await t.stripe.subscriptions.retrieve(subscriber.subscriptionId)).status).toBe('canceled');
    const entries = await t.runtime.store.listTimeline(dunningCase.invoiceId);
    // Stripe's events (each retry's decline comes back as invoice.payment_failed) arrive on their own time.
    expect(entries.filter((e) => e.type === 'event_received').map((e) => e.detail)).toEqual(expect.arrayContaining(['invoice.payment_failed']));
    const timeline = entries.filter((e) => e.type !== 'event_received').map((e) => `${e.type}${e.stage ? `:${e.stage}` : ''}`);
    // Access: grace from the failure, limited from the policy's day 7 (Notice3's day), none at the end.
    expect(timeline).toEqual([
      'case_opened',
      'access_changed',
      'execution_started',
      'notice_sent:Notice1',
      'retry_scheduled:Retry1',
      'retry_declined:Retry1',
      'notice_sent:Notice2',
      'retry_scheduled:Retry2',
      'retry_declined:Retry2',
      'access_changed:Notice3',
      'notice_sent:Notice3',
      'retry_scheduled:Retry3',
      'retry_declined:Retry3',
      'end_action',
      'terminated:Terminate',
      'access_changed',
      'notice_sent:Terminate',
    ]);
    expect(entries.filter((e) => e.type === 'access_changed').map((e) => e.facts?.access)).toEqual(['grace', 'limited', 'none']);
  });

  it('still terminates when Stripe answers the cancel with 503s for a while', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Cancel Meets 503');
    t.onStage(subscriber.customerId, ({ state, error }) => {
      if (state === 'Retry3' && !error) {
        // Two per invocation: the SDK's own retry of an unkeyed DELETE meets the second.
        t.runtime.sandbox!.injectFault({ method: 'DELETE', path: `^/v1/subscriptions/${subscriber.subscriptionId}$`, status: 503, count: 4 });
      }
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();

    const terminate = t.tasks.filter((task) => task.invoiceId === dunningCase.invoiceId && task.state === 'terminate');
    expect(terminate.map((task) => task.error?.name ?? 'ok')).toEqual(['StripeUnavailableError', 'StripeUnavailableError', 'ok']);
    expect(dunningCase.status).toBe('terminated');
    expect((await t.stripe.subscriptions.retrieve(subscriber.subscriptionId)).status).toBe('canceled');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
  });

  it('names the termination date, 14 days after the failure in Stripe time, in notice 3', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Reads The Date');
    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);

    const { readSesInbox } = await import('#local/ses.ts');
    const notice3 = (await readSesInbox(t.runtime.urls.ses)).find((m) => m.to.includes(subscriber.email) && m.subject === SUBJECTS.notice3);
    const expectedDate = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' }).format(
      new Date(new Date(dunningCase.failedAt).getTime() + 14 * 86_400_000),
    );

    expect(notice3?.text).toContain(`otherwise your subscription will terminate on ${expectedDate}`);
    // The failure happened on the test clock's day, a month ahead of the wall clock, not today.
    expect(new Date(dunningCase.failedAt).getTime()).toBeGreaterThan(Date.now() + 20 * 86_400_000);
  });
});

describe('a case paid from outside during a wait', () => {
  it('closes at once on invoice.paid, stops the execution and sends only the confirmation', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Pays Hosted Page');
    let paidAt = 0;
    t.onStage(subscriber.customerId, async ({ state, dunningCase }) => {
      if (state !== 'Notice1') return;
      // Paid on the hosted invoice page with another card: Stripe then sends invoice.paid.
      setTimeout(() => {
        void t.stripe.invoices.pay(dunningCase.invoiceId, { payment_method: 'pm_card_visa' }).then(() => {
          paidAt = Date.now();
        });
      }, 20);
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    const closedWithin = Date.now() - paidAt;
    // Sit through what would have been the rest of the sequence: nothing else may be sent.
    await new Promise((resolve) => setTimeout(resolve, 16 * t.runtime.config.dayMs));

    expect(dunningCase.status).toBe('recovered');
    // Paid through Stripe's API by someone other than us (here the test, as the hosted page would).
    expect(await t.runtime.store.getCase(dunningCase.invoiceId)).toMatchObject({ recoveredBy: 'customer_payment' });
    expect(closedWithin).toBeLessThan(1000);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
    // Retry1 falls due 3 policy days (300 ms here) after Notice1: it may start before the routed
    // invoice.paid has closed the case (the webhook's queue is a hop; CI saw it on a loaded
    // machine), and then it finds the invoice paid, charges nothing, and the execution ends through
    // RecoverCase instead of being stopped. Never a charge of ours, never a second notice.
    const status = t.runtime.stepFunctions.executions.get(executionArn(dunningCase.invoiceId))?.status;
    const stages = t.tasks.filter((task) => task.invoiceId === dunningCase.invoiceId).map((task) => task.state);
    if (status === 'SUCCEEDED') {
      expect(stages).toContain('RecoverCase');
      expect(stages.filter((state) => !['Notice1', 'Retry1', 'RecoverCase'].includes(state))).toEqual([]);
    }
    else {
      expect(status).toBe('ABORTED');
      expect(stages.filter((state) => state !== 'Notice1' && state !== 'Retry1')).toEqual([]);
    }
    const entries = (await t.runtime.store.listTimeline(dunningCase.invoiceId)).map((e) => e.type);
    expect(entries.filter((type) => type === 'retry_paid' || type === 'retry_declined')).toEqual([]);
    expect((await t.stripe.invoices.retrieve(dunningCase.invoiceId)).amount_paid).toBe(1500);
  });
});

describe('a stage that meets Stripe trouble', () => {
  it('retries a retry stage through 503s and goes on when Stripe answers again', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Meets A Blip');
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice1' && !error) {
        // Stripe saves a 5xx under its idempotency key, so the SDK's own retry only replays it: each
        // fault fails one whole invocation, and only a new invocation's new key gets through.
        t.runtime.sandbox!.injectFault({ method: 'POST', path: /^\/v1\/invoices\/[^/]+\/pay$/, status: 503, count: 2 });
        // Unheard of, so the scheduled Retry1 is the one that meets the 503s.
        await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, subscriber.customerId));
      }
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    // Stripe's invoice.paid may close the case before the third Retry1 invocation has handed back
    // its output: wait for all three.
    const retry1 = await waitFor(async () => {
      const tasks = t.tasks.filter((task) => task.invoiceId === dunningCase.invoiceId && task.state === 'Retry1');
      return tasks.length >= 3 && tasks;
    }, 10_000, 'the three Retry1 invocations');
    expect(retry1.map((task) => task.error?.name ?? (task.output as { outcome: string }).outcome)).toEqual([
      'StripeUnavailableError',
      'StripeUnavailableError',
      'paid',
    ]);
    expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy: 'workflow_retry' });
    expect((await t.stripe.invoices.retrieve(dunningCase.invoiceId)).amount_paid).toBe(1500);
  });

  it('waits out a run of Stripe 429s longer than any outage retry allows, then charges: late, never flagged', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Meets A Rate Limit');
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice1' && !error) {
        // The merchant's own traffic took the account's room: 16 answers of 429 in a row, more
        // than the transient retrier's 6 attempts would survive.
        t.runtime.sandbox!.injectFault({ method: 'POST', path: /^\/v1\/invoices\/[^/]+\/pay$/, status: 429, count: 16 });
        await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, subscriber.customerId));
      }
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId, 60_000);

    const retry1 = t.tasks.filter((task) => task.invoiceId === dunningCase.invoiceId && task.state === 'Retry1');
    const outcomes = retry1.map((task) => task.error?.name ?? (task.output as { outcome: string }).outcome);
    expect(outcomes.at(-1)).toBe('paid');
    expect(new Set(outcomes.slice(0, -1))).toEqual(new Set(['StripeRateLimitedError']));
    // More failed attempts than the outage retrier's MaxAttempts (6): only the patient one keeps going.
    expect(outcomes.length - 1).toBeGreaterThan(6);
    expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy: 'workflow_retry' });
    expect((await t.stripe.invoices.retrieve(dunningCase.invoiceId)).amount_paid).toBe(1500);
  });

  it('fails the execution at the stage Stripe kept failing, and flags the case needs_attention from that failure', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Stripe Stays Down');
    t.onStage(subscriber.customerId, ({ state, error }) => {
      if (state === 'Notice1' && !error) {
        t.runtime.sandbox!.injectFault({ method: 'POST', path: /^\/v1\/invoices\/[^/]+\/pay$/, status: 500, count: 1000 });
      }
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    const execution = await waitFor(async () => {
      const e = t.runtime.stepFunctions.executions.get(executionArn(dunningCase.invoiceId));
      return e && e.status !== 'RUNNING' ? e : undefined;
    }, 10_000, 'the execution to end');
    t.runtime.sandbox!.clearFaults();

    expect(dunningCase.status).toBe('needs_attention');
    expect(dunningCase.error).toMatchObject({ name: 'StripeUnavailableError' });
    expect(execution).toMatchObject({ status: 'FAILED', error: 'StripeUnavailableError', lastState: { name: 'Retry1' } });
    // flag-case writes the flag, then its timeline entry: the entry follows the status by a moment.
    const flagged = await waitFor(async () => {
      const entries = (await t.runtime.store.listTimeline(dunningCase.invoiceId)).filter((e) => e.type === 'flagged');
      return entries.length > 0 && entries;
    }, 5_000, 'the flagged entry');
    expect(flagged).toEqual([
      expect.objectContaining({ stage: 'Retry1', detail: expect.stringMatching(/^Retry1 failed: StripeUnavailableError: /) }),
    ]);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
  });

  it('still recovers a flagged case, with its confirmation, when the customer pays after the outage', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Pays After Outage');
    t.onStage(subscriber.customerId, ({ state, error }) => {
      if (state === 'Notice1' && !error) {
        t.runtime.sandbox!.injectFault({ method: 'POST', path: /^\/v1\/invoices\/[^/]+\/pay$/, status: 500, count: 1000 });
      }
    });
    await renew(t.stripe, subscriber);
    const flagged = await closedCase(t.runtime, subscriber.subscriptionId);
    t.runtime.sandbox!.clearFaults();

    await t.stripe.invoices.pay(flagged.invoiceId, { payment_method: 'pm_card_visa' });
    const recovered = await waitFor(async () => {
      const c = await t.runtime.store.getCase(flagged.invoiceId);
      return c?.status === 'recovered' ? c : undefined;
    }, 5000, 'the flagged case to recover');

    // The case closes before its confirmation is sent, so wait for the email rather than race it.
    const sent = await subjectsOnceThanked(t.runtime, subscriber.email);

    // The card the customer paid with is a new card too: its event may recover the case first, as
    // `invoice_paid`, and invoice.paid then says how it was paid.
    const refined = await waitFor(async () => {
      const c = await t.runtime.store.getCase(flagged.invoiceId);
      return c?.recoveredBy === 'customer_payment' ? c : undefined;
    }, 5000, 'how it was paid');

    expect(flagged.status).toBe('needs_attention');
    expect(['invoice_paid', 'customer_payment']).toContain(recovered.recoveredBy);
    expect(refined.status).toBe('recovered');
    expect(sent).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
  });
});

describe('a card updated during a wait', () => {
  it('is charged at once, not at the next stage, and the customer hears nothing more but thanks', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Updates Card Now');
    let updatedAt = 0;
    let recoveredAt = 0;
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state === 'Notice1' && !error) {
        // Between Notice1 and the wait after it (the hold moves the wait's end by as long): the card
        // event goes through the webhook's queue, and its charge alone must recover the case, with
        // no stage of the sequence running. Waiting here keeps Retry1 (300 ms later) out of the race.
        await putInWorkingCard(t.stripe, subscriber.customerId);
        updatedAt = Date.now();
        await waitFor(async () => (await t.runtime.store.getCase(dunningCase.invoiceId))?.status === 'recovered', 5000, 'the new card to be charged');
        recoveredAt = Date.now();
      }
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    const sent = await subjectsOnceThanked(t.runtime, subscriber.email);

    expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy: 'card_updated' });
    // Charged and recovered within a second of the card's update, by its own event.
    expect(recoveredAt - updatedAt).toBeLessThan(1000);
    expect(sent).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
    expect(t.tasks.filter((task) => task.invoiceId === dunningCase.invoiceId).map((task) => task.state)).toEqual(['Notice1']);
  });

  it('lets the sequence go on where it was when the new card declines too', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'New Card Declines');
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice1' && !error) await putInWorkingCard(t.stripe, subscriber.customerId, 'pm_card_chargeDeclinedInsufficientFunds');
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();
    const timeline = (await t.runtime.store.listTimeline(dunningCase.invoiceId)).map((e) => `${e.type}:${e.stage ?? ''}:${e.detail ?? ''}`);

    expect(timeline).toContainEqual('retry_declined:CardUpdated:insufficient_funds');
    expect(dunningCase.status).toBe('terminated');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
  });
});
