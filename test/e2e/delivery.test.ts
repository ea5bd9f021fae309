// Stripe delivers at least once, in no guaranteed order, and replays old events on request. The
// product decides by the Stripe object's real state, so none of that changes what a customer gets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  forgetProcessedEvents,
  closedCase,
  deliver,
  latestEvent,
  renew,
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
  t = await startTestRuntime({ dayMs: 60_000 });
});
afterAll(async () => {
  await t?.close();
});

describe('events out of order', () => {
  it('opens no case and sends no notice when invoice.paid arrives before the failure that preceded it', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Paid Before Failed');
    const invoiceId = await withDeliveriesPaused(t.runtime, async () => {
      await renew(t.stripe, subscriber);
      const [invoice] = (await t.stripe.invoices.list({ subscription: subscriber.subscriptionId, status: 'open' })).data;
      await t.stripe.invoices.pay(invoice!.id!, { payment_method: 'pm_card_visa' });
      return invoice!.id!;
    });
    const failed = await latestEvent(t.stripe, 'invoice.payment_failed', invoiceId);
    const paid = await latestEvent(t.stripe, 'invoice.paid', invoiceId);

    const paidFirst = await deliver(t.runtime, paid);
    const failedLate = await deliver(t.runtime, failed);

    expect(paidFirst.body).toMatchObject({ action: 'ignored' });
    expect(failedLate.body).toMatchObject({ action: 'ignored', reason: expect.stringMatching(/paid in Stripe now/) });
    expect(await t.runtime.store.getCase(invoiceId)).toBeUndefined();
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([]);
  });
});

describe('subscription events out of order', () => {
  /** Opens a case and waits for its first notice; returns it with the subscription's updates so far. */
  async function openCase(name: string) {
    const subscriber = await subscribeWithDecliningCard(t.stripe, name);
    await renew(t.stripe, subscriber);
    const open = await waitFor(async () => {
      const c = (await t.runtime.store.listCases()).find((x) => x.subscriptionId === subscriber.subscriptionId);
      return c?.executionArn && c.noticesSent.includes('Notice1') ? c : undefined;
    }, 5000, 'the case and notice 1');
    return { subscriber, open };
  }

  /** Every customer.subscription.updated Stripe has sent about the subscription, newest first. */
  async function subscriptionUpdates(subscriptionId: string): Promise<Array<{ payload: string; status: string }>> {
    const found: Array<{ payload: string; status: string }> = [];
    for await (const event of t.stripe.events.list({ type: 'customer.subscription.updated', limit: 100 })) {
      const object = event.data.object as { id: string; status: string };
      if (object.id === subscriptionId) found.push({ payload: JSON.stringify(event, null, 2), status: object.status });
    }
    return found;
  }

  it('changes nothing when an update from before the failure (still active) arrives late', async () => {
    const { subscriber, open } = await openCase('Stale Active');
    const stale = (await subscriptionUpdates(subscriber.subscriptionId)).find((u) => u.status === 'active');
    await forgetProcessedEvents(t.runtime);

    const response = await deliver(t.runtime, stale!.payload);

    expect(response).toMatchObject({ status: 200, body: { action: 'ignored', reason: 'subscription is past_due in Stripe; its case goes on' } });
    expect(await t.runtime.store.getCase(open.invoiceId)).toMatchObject({ status: 'open' });
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
  });

  it('closes the case when Stripe holds the subscription as canceled, though the update says past_due', async () => {
    const { subscriber, open } = await openCase('Canceled Quietly');
    const pastDue = (await subscriptionUpdates(subscriber.subscriptionId)).find((u) => u.status === 'past_due');
    // Canceled in the Dashboard, and its customer.subscription.deleted is lost.
    await withDeliveriesPaused(t.runtime, () => t.stripe.subscriptions.cancel(subscriber.subscriptionId));
    await forgetProcessedEvents(t.runtime);

    const response = await deliver(t.runtime, pastDue!.payload);

    expect(response.body).toMatchObject({ action: 'case_closed', reason: 'subscription canceled in Stripe' });
    expect(await t.runtime.store.getCase(open.invoiceId)).toMatchObject({ status: 'closed', closedReason: 'subscription canceled in Stripe' });
    expect([...t.runtime.stepFunctions.executions.values()].find((e) => e.name === open.invoiceId)?.status).toBe('ABORTED');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
  });

  it('recovers the case, once, when the update shows it active again and its invoice.paid is lost', async () => {
    const { subscriber, open } = await openCase('Paid Quietly');
    await withDeliveriesPaused(t.runtime, () => t.stripe.invoices.pay(open.invoiceId, { paid_out_of_band: true }));
    const [active] = await subscriptionUpdates(subscriber.subscriptionId);

    const responses = [await deliver(t.runtime, active!.payload), await deliver(t.runtime, active!.payload)];
    const sent = await subjectsOnceThanked(t.runtime, subscriber.email);

    expect(active!.status).toBe('active');
    // The duplicate gets the first delivery's answer back from the dedupe record.
    expect(responses.map((r) => [r.status, r.body.action])).toEqual([[200, 'case_recovered'], [200, 'case_recovered']]);
    expect(await t.runtime.store.getCase(open.invoiceId)).toMatchObject({ status: 'recovered', recoveredBy: 'out_of_band' });
    expect([...t.runtime.stepFunctions.executions.values()].find((e) => e.name === open.invoiceId)?.status).toBe('ABORTED');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
    expect(sent).toContain(SUBJECTS.recovered);
  });
});

describe('a replay of old events', () => {
  it('has no effect on a closed case once the dedupe records are gone', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Replayed Later');
    await renew(t.stripe, subscriber);
    const open = await waitFor(async () => (await t.runtime.store.listCases()).find((c) => c.subscriptionId === subscriber.subscriptionId), 5000, 'the case');
    await waitFor(async () => (await subjectsTo(t.runtime, subscriber.email)).length === 1, 5000, 'notice 1');
    await t.stripe.invoices.pay(open.invoiceId, { payment_method: 'pm_card_visa' });
    await closedCase(t.runtime, subscriber.subscriptionId);
    await waitFor(async () => (await subjectsTo(t.runtime, subscriber.email)).length === 2, 5000, 'the confirmation');
    const executionsBefore = t.runtime.stepFunctions.executions.size;

    await forgetProcessedEvents(t.runtime);
    const replays = [
      await deliver(t.runtime, await latestEvent(t.stripe, 'invoice.payment_failed', open.invoiceId)),
      await deliver(t.runtime, await latestEvent(t.stripe, 'invoice.paid', open.invoiceId)),
    ];

    expect(replays.map((r) => r.status)).toEqual([200, 200]);
    expect((await t.runtime.store.getCase(open.invoiceId))?.status).toBe('recovered');
    expect(t.runtime.stepFunctions.executions.size).toBe(executionsBefore);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
  });
});

describe('a case closed from outside during a wait', () => {
  it.each([
    ['the subscription is canceled elsewhere', (s: { subscriptionId: string }) => t.stripe.subscriptions.cancel(s.subscriptionId), /subscription canceled in Stripe/],
    ['the invoice is voided', (_: unknown, invoiceId: string) => t.stripe.invoices.voidInvoice(invoiceId), /invoice voided in Stripe/],
    ['the invoice is marked uncollectible', (_: unknown, invoiceId: string) => t.stripe.invoices.markUncollectible(invoiceId), /invoice marked uncollectible in Stripe/],
    ['the customer is deleted', (s: { customerId: string }) => t.stripe.customers.del(s.customerId), /(customer deleted|subscription canceled) in Stripe/],
  ] as const)('closes with the reason when %s, clears the banner and sends nothing more', async (_, act, reason) => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, `Closed Outside ${Math.random().toString(36).slice(2, 7)}`);
    await renew(t.stripe, subscriber);
    const open = await waitFor(async () => {
      const c = (await t.runtime.store.listCases()).find((x) => x.subscriptionId === subscriber.subscriptionId);
      return c?.noticesSent.includes('Notice1') && (await t.runtime.store.getBanner(subscriber.customerId)) ? c : undefined;
    }, 5000, 'notice 1 and its banner');

    await act(subscriber as never, open.invoiceId);
    const closed = await closedCase(t.runtime, subscriber.subscriptionId, 5000);

    // The banner goes right after the close is written (the notice API hides it from that moment).
    await waitFor(async () => (await t.runtime.store.getBanner(subscriber.customerId)) === undefined, 2000, 'the banner to clear');

    expect(closed).toMatchObject({ status: 'closed', closedReason: expect.stringMatching(reason) });
    // The router writes the close, then stops the execution: the stop follows by a moment.
    const execution = () => [...t.runtime.stepFunctions.executions.values()].find((e) => e.name === open.invoiceId);
    await waitFor(async () => execution()?.status !== 'RUNNING', 5000, 'the execution to stop');
    expect(execution()?.status).toBe('ABORTED');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
  });
});

describe('different events about one case, delivered at the same moment', () => {
  it('resolve to one consistent state: recovered once, thanked once, execution stopped', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Concurrent Events');
    await renew(t.stripe, subscriber);
    const open = await waitFor(async () => {
      const c = (await t.runtime.store.listCases()).find((x) => x.subscriptionId === subscriber.subscriptionId);
      return c?.noticesSent.includes('Notice1') ? c : undefined;
    }, 5000, 'notice 1');
    // The customer puts in a card and pays the invoice page; Stripe's events race to us.
    await withDeliveriesPaused(t.runtime, async () => {
      const card = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: subscriber.customerId });
      await t.stripe.customers.update(subscriber.customerId, { invoice_settings: { default_payment_method: card.id } });
      await t.stripe.invoices.pay(open.invoiceId, { payment_method: card.id });
    });
    const events = await Promise.all([
      latestEvent(t.stripe, 'invoice.paid', open.invoiceId),
      latestEvent(t.stripe, 'payment_method.attached', subscriber.customerId),
      latestEvent(t.stripe, 'customer.updated', subscriber.customerId),
      latestEvent(t.stripe, 'invoice.payment_failed', open.invoiceId),
    ]);

    const responses = await Promise.all([...events, ...events].map((payload) => deliver(t.runtime, payload)));
    const sent = await subjectsOnceThanked(t.runtime, subscriber.email);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(responses.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    expect(await t.runtime.store.getCase(open.invoiceId)).toMatchObject({ status: 'recovered', recoveredBy: 'customer_payment' });
    // Read again after a pause: a second confirmation would show up here.
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
    expect(sent).toContain(SUBJECTS.recovered);
    expect([...t.runtime.stepFunctions.executions.values()].find((e) => e.name === open.invoiceId)?.status).toBe('ABORTED');
    expect((await t.stripe.invoices.retrieve(open.invoiceId)).amount_paid).toBe(1500);
  });
});

describe('a second invoice of the same subscription that fails while a case is open', () => {
  async function twoFailedRenewals(name: string) {
    const subscriber = await subscribeWithDecliningCard(t.stripe, name);
    await renew(t.stripe, subscriber);
    const first = await waitFor(async () => {
      const c = (await t.runtime.store.listCases()).find((x) => x.subscriptionId === subscriber.subscriptionId);
      return c?.noticesSent.includes('Notice1') ? c : undefined;
    }, 5000, 'the first case and notice 1');
    await t.stripe.testHelpers.testClocks.advance(subscriber.clockId, { frozen_time: subscriber.periodEnd + 32 * 86_400 });
    const joined = await waitFor(async () => {
      const c = await t.runtime.store.getCase(first.invoiceId);
      return c?.extraInvoiceIds?.length ? c : undefined;
    }, 5000, 'the second invoice to join');
    return { subscriber, first, joined, secondInvoiceId: joined.extraInvoiceIds![0]! };
  }

  it('joins the open case: one case, one sequence, the amount owed doubles', async () => {
    const { subscriber, joined, secondInvoiceId } = await twoFailedRenewals('Two Renewals');

    expect((await t.runtime.store.listCases()).filter((c) => c.subscriptionId === subscriber.subscriptionId)).toHaveLength(1);
    expect(joined.amountDue).toEqual({ amount: 3000, currency: 'gbp' });
    expect([...t.runtime.stepFunctions.executions.values()].some((e) => e.name === secondInvoiceId)).toBe(false);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
  });

  it('pays every open invoice of the case with a new card, and recovers once', async () => {
    const { subscriber, first, secondInvoiceId } = await twoFailedRenewals('Two Then Card');

    const { putInWorkingCard } = await import('../fixtures/scenario.ts');
    await putInWorkingCard(t.stripe, subscriber.customerId);
    await closedCase(t.runtime, subscriber.subscriptionId, 5000);
    await waitFor(async () => (await subjectsTo(t.runtime, subscriber.email)).includes(SUBJECTS.recovered), 5000, 'the confirmation');

    expect((await t.stripe.invoices.retrieve(first.invoiceId)).status).toBe('paid');
    expect((await t.stripe.invoices.retrieve(secondInvoiceId)).status).toBe('paid');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
  });

  it('stays open for what is still owed when only one invoice is paid, and recovers when the last one is', async () => {
    const { subscriber, first, secondInvoiceId } = await twoFailedRenewals('Pays One Of Two');

    // Paid without a new card (a bank transfer recorded in Stripe): a new card would pay both.
    await t.stripe.invoices.pay(first.invoiceId, { paid_out_of_band: true });
    const partly = await waitFor(async () => {
      const c = await t.runtime.store.getCase(first.invoiceId);
      return c?.amountDue.amount === 1500 ? c : undefined;
    }, 5000, 'the amount owed to drop');
    expect(partly.status).toBe('open');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);

    await t.stripe.invoices.pay(secondInvoiceId, { paid_out_of_band: true });
    const recovered = await closedCase(t.runtime, subscriber.subscriptionId, 5000);

    expect(recovered).toMatchObject({ status: 'recovered', recoveredBy: 'out_of_band' });
  });
});

describe("Stripe's own retry of an invoice with an open case", () => {
  it('updates the existing case instead of opening another', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Smart Retried');
    await renew(t.stripe, subscriber);
    const open = await waitFor(async () => {
      const c = (await t.runtime.store.listCases()).find((x) => x.subscriptionId === subscriber.subscriptionId);
      return c?.executionArn ? c : undefined;
    }, 5000, 'the case and its execution');
    const executions = t.runtime.stepFunctions.executions.size;
    // What Stripe sends when Smart Retries makes a second attempt: no API request caused it.
    const event = JSON.parse(await latestEvent(t.stripe, 'invoice.payment_failed', open.invoiceId));
    Object.assign(event, { id: `${event.id}_retry2`, request: { id: null, idempotency_key: null } });
    event.data.object.attempt_count = 2;

    const response = await deliver(t.runtime, JSON.stringify(event, null, 2));

    expect(response.body).toMatchObject({ action: 'case_exists', invoiceId: open.invoiceId });
    expect((await t.runtime.store.listCases()).filter((c) => c.subscriptionId === subscriber.subscriptionId)).toHaveLength(1);
    expect(t.runtime.stepFunctions.executions.size).toBe(executions);
    expect(await t.runtime.store.listTimeline(open.invoiceId)).toContainEqual(
      expect.objectContaining({ type: 'stripe_attempt_failed', detail: `${open.invoiceId} attempt 2` }),
    );
  });
});
