// Stripe's Amazon EventBridge destination, end to end: real Stripe events from a sandbox renewal,
// wrapped in the envelope EventBridge delivers, fed to handle-eventbridge as the stack deploys it
// with EventBridge ingest on (its own worker, environment and role). EventBridge delivers at least
// once and both ways in may be on, so each event acts once.
import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deliver,
  emittedMetrics,
  latestEvent,
  renew,
  startTestRuntime,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  withDeliveriesPaused,
  type TestRuntime,
} from '../fixtures/scenario.ts';

type StripeEventJson = Record<string, any>;

/** The partner event source (and bus) name Stripe gives an event destination. */
const STRIPE_SOURCE = 'aws.partner/stripe.com/ed_test_61SandboxDestination';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({
    // Long days: these tests look at what arrives, not at later stages.
    dayMs: 60_000,
    eventBridgeBusName: STRIPE_SOURCE,
    // On purpose: deliveries caught in flight and a throttled Step Functions fail the invocation,
    // so that EventBridge (then Lambda) retries them.
    expectAlarms: ['HandleEventBridgeErrors'],
  });
});
afterAll(async () => {
  await t?.close();
});

/** The envelope EventBridge delivers for a Stripe event: the event itself is `detail`. */
function envelope(event: StripeEventJson): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': event.type,
    source: STRIPE_SOURCE,
    account: '111122223333',
    time: new Date(event.created * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [],
    detail: event,
  };
}

const invoke = (event: EventBridgeEvent<string, unknown>) => t.runtime.lambda.invoke<Record<string, unknown>>('handle-eventbridge', event);

/** A real failed renewal, with webhook deliveries paused, and its invoice.payment_failed event. */
async function failedRenewal(name: string) {
  const subscriber = await subscribeWithDecliningCard(t.stripe, `${name} ${Math.random().toString(36).slice(2, 7)}`);
  await withDeliveriesPaused(t.runtime, () => renew(t.stripe, subscriber));
  const event = JSON.parse(await latestEvent(t.stripe, 'invoice.payment_failed', subscriber.customerId)) as StripeEventJson;
  return { subscriber, event, invoiceId: event.data.object.id as string };
}

const notice1 = (email: string) => waitFor(async () => (await subjectsTo(t.runtime, email)).length > 0, 5000, 'notice 1');
const casesOf = async (invoiceId: string) => (await t.runtime.store.listCases()).filter((c) => c.invoiceId === invoiceId);
const executionsOf = (invoiceId: string) => [...t.runtime.stepFunctions.executions.values()].filter((e) => e.name === invoiceId);

describe('handle-eventbridge', () => {
  it('opens the case and sends notice 1 for a failed renewal delivered by EventBridge', async () => {
    const { subscriber, event, invoiceId } = await failedRenewal('EventBridge Opened');

    const result = await invoke(envelope(event));
    await notice1(subscriber.email);

    expect(result).toMatchObject({ action: 'case_opened', invoiceId });
    expect(await t.runtime.store.getCase(invoiceId)).toMatchObject({ status: 'open', subscriptionId: subscriber.subscriptionId });
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
  });

  it('does nothing more when EventBridge delivers the same event again', async () => {
    const { subscriber, event, invoiceId } = await failedRenewal('EventBridge Twice');
    const delivery = envelope(event);

    const first = await invoke(delivery);
    const again = await invoke(delivery);
    const redriven = await invoke(envelope(event));
    await notice1(subscriber.email);

    expect(first).toMatchObject({ action: 'case_opened' });
    expect(again).toEqual(first);
    expect(redriven).toEqual(first);
    expect(await casesOf(invoiceId)).toHaveLength(1);
    expect(executionsOf(invoiceId)).toHaveLength(1);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
  });

  it.each([
    ['the webhook first, then EventBridge', 'webhook'],
    ['EventBridge first, then the webhook', 'eventbridge'],
  ] as const)('processes an event once when it arrives by %s', async (_, firstPath) => {
    const { subscriber, event, invoiceId } = await failedRenewal(`Both Paths ${firstPath}`);
    const byWebhook = () => deliver(t.runtime, JSON.stringify(event));
    const byEventBridge = () => invoke(envelope(event));

    if (firstPath === 'webhook') {
      expect((await byWebhook()).body).toMatchObject({ action: 'case_opened' });
      expect(await byEventBridge()).toMatchObject({ action: 'case_opened' });
    } else {
      expect(await byEventBridge()).toMatchObject({ action: 'case_opened' });
      expect((await byWebhook()).body).toMatchObject({ action: 'case_opened' });
    }
    await notice1(subscriber.email);

    expect(await casesOf(invoiceId)).toHaveLength(1);
    expect(executionsOf(invoiceId)).toHaveLength(1);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
  });

  it('fails concurrent deliveries caught in flight, so EventBridge retries them, and opens one case', async () => {
    const { subscriber, event, invoiceId } = await failedRenewal('EventBridge Concurrent');

    const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => invoke(envelope(event))));
    await notice1(subscriber.email);

    expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ name: 'IdempotencyAlreadyInProgressError' });
    }
    expect(await casesOf(invoiceId)).toHaveLength(1);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
  });

  it('fails while Step Functions is throttled, so the event is retried, and the retry opens the case', async () => {
    const { subscriber, event, invoiceId } = await failedRenewal('EventBridge Throttled');
    // More than the SDK's own three attempts, so the throttle reaches the handler.
    t.runtime.stepFunctions.injectFault({ action: 'StartExecution', error: 'ThrottlingException', count: 3 });
    const delivery = envelope(event);

    await expect(invoke(delivery)).rejects.toMatchObject({ name: expect.stringMatching(/Throttling/) });
    const retried = await invoke(delivery);
    await notice1(subscriber.email);

    expect(retried).toMatchObject({ action: 'case_opened', invoiceId });
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
  });

  describe('an envelope it cannot use', () => {
    const cases: Array<[string, (e: Record<string, any>) => unknown, RegExp]> = [
      ['a source other than Stripe', (e) => (e.source = 'com.example.billing'), /source: is not Stripe's partner event source/],
      ['a detail-type that does not match the event', (e) => (e['detail-type'] = 'invoice.paid'), /detail-type: does not match detail\.type/],
      ['a detail that is not a Stripe event', (e) => (e.detail = e.detail.data.object), /detail\.\w+/],
      [
        'a thin event instead of a snapshot event',
        (e) => (e.detail = { id: e.detail.id, object: 'v2.core.event', type: e.detail.type, livemode: false }),
        /snapshot events/,
      ],
      ['a Stripe event missing a field the router needs', (e) => (e.detail.data.object.amount_due = 'a lot'), /amount_due/],
    ];
    it.each(cases)('is dropped with a log line and a metric, without side effects, when it has %s', async (_, spoil, reason) => {
      const { subscriber, event, invoiceId } = await failedRenewal('EventBridge Unusable');
      const spoiled = envelope(structuredClone(event));
      spoil(spoiled as unknown as Record<string, any>);
      const metricsBefore = emittedMetrics(t.runtime).length;

      const result = await invoke(spoiled);

      expect(result).toEqual({ action: 'unusable', reason: expect.stringMatching(reason) });
      const logged = t.logs
        .filter((l) => l.functionName === 'handle-eventbridge' && l.line.includes(spoiled.id))
        .map((l) => JSON.parse(l.line) as Record<string, unknown>);
      expect(logged).toContainEqual(
        expect.objectContaining({
          level: 'ERROR',
          message: 'EventBridge event is unusable; dropped without processing',
          eventBridgeEventId: spoiled.id,
          reason: expect.stringMatching(reason),
        }),
      );
      expect(emittedMetrics(t.runtime).slice(metricsBefore)).toContainEqual({ name: 'EventUnusable', dimensions: {}, value: 1 });
      expect(await t.runtime.store.getCase(invoiceId)).toBeUndefined();
      expect(executionsOf(invoiceId)).toHaveLength(0);
      expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([]);

      // Nothing of the spoiled delivery is remembered: the genuine event still opens the case.
      expect(await invoke(envelope(event))).toMatchObject({ action: 'case_opened', invoiceId });
    });
  });

  it('closes the case, stops the execution and thanks the customer when invoice.paid arrives by EventBridge', async () => {
    const { subscriber, event, invoiceId } = await failedRenewal('EventBridge Paid');
    await invoke(envelope(event));
    await notice1(subscriber.email);
    await withDeliveriesPaused(t.runtime, () => t.stripe.invoices.pay(invoiceId, { payment_method: 'pm_card_visa' }));
    const paid = JSON.parse(await latestEvent(t.stripe, 'invoice.paid', invoiceId)) as StripeEventJson;

    const result = await invoke(envelope(paid));
    await waitFor(async () => (await subjectsTo(t.runtime, subscriber.email)).length === 2, 5000, 'the confirmation');

    expect(result).toEqual({ action: 'case_recovered', invoiceId });
    expect(await t.runtime.store.getCase(invoiceId)).toMatchObject({ status: 'recovered' });
    expect(executionsOf(invoiceId).map((e) => e.status)).toEqual(['ABORTED']);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
  });
});
