// The business metrics on each path a case takes, as the functions of the local runtime emit them:
// EMF lines in each function's output, read the way CloudWatch reads them from the log group.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MetricName } from '#shared/dunning/metrics.ts';
import {
  emittedMetrics,
  closedCase,
  putInWorkingCard,
  renew,
  settled,
  startTestRuntime,
  subscribeWithDecliningCard,
  waitFor,
  withDeliveriesPaused,
  type TestRuntime,
} from '../fixtures/scenario.ts';

let t: TestRuntime;
let since = 0;
beforeAll(async () => {
  // The forged signature below is a fault on purpose: it counts towards WebhookSignatureRejections.
  t = await startTestRuntime({ dayMs: 100, expectAlarms: ['WebhookSignatureRejections'] });
});
afterAll(async () => {
  await t?.close();
});
beforeEach(async () => {
  // Each test starts from a quiet runtime, so what is recorded is its own case's.
  await t.runtime.stepFunctions.idle();
  since = emittedMetrics(t.runtime).length;
});

const emitted = () => emittedMetrics(t.runtime).slice(since);
const named = (name: MetricName) => emitted().filter((datum) => datum.name === name);
const total = (name: MetricName) => named(name).reduce((sum, datum) => sum + datum.value, 0);

describe('metrics of a case that is never fixed', () => {
  it('counts the case opened, each notice by stage, each declined retry and the termination', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Metrics Never Fixes');

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await settled(t.runtime);

    expect(dunningCase.status).toBe('terminated');
    expect(total('CaseOpened')).toBe(1);
    expect(named('NoticeSent').map((datum) => datum.dimensions)).toEqual([
      { Stage: 'Notice1' },
      { Stage: 'Notice2' },
      { Stage: 'Notice3' },
      { Stage: 'Terminate' },
    ]);
    expect(total('RetryAttempted')).toBe(3);
    expect(total('RetryDeclined')).toBe(3);
    expect(total('RetrySucceeded')).toBe(0);
    expect(total('CaseTerminated')).toBe(1);
    expect(named('CaseRecovered')).toEqual([]);
    expect(named('RecoveredAmount')).toEqual([]);
    // The failed renewal's event, and whatever else Stripe sent about it, were all taken.
    expect(total('WebhookAccepted')).toBeGreaterThanOrEqual(1);
    expect(named('WebhookRejected')).toEqual([]);
  });
});

describe('metrics of a case recovered by a scheduled retry', () => {
  it('counts the successful retry, the recovery by workflow_retry and the amount in minor units by currency', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Metrics Fixes After Notice1');
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice1' && !error) await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, subscriber.customerId));
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await settled(t.runtime);

    expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy: 'workflow_retry' });
    expect(total('RetryAttempted')).toBe(1);
    expect(total('RetrySucceeded')).toBe(1);
    expect(named('CaseRecovered')).toEqual([{ name: 'CaseRecovered', dimensions: { RecoveredBy: 'workflow_retry' }, value: 1 }]);
    expect(named('RecoveredAmount')).toEqual([
      { name: 'RecoveredAmount', dimensions: { Currency: dunningCase.amountDue.currency.toUpperCase() }, value: dunningCase.amountDue.amount },
    ]);
    expect(named('NoticeSent').map((datum) => datum.dimensions.Stage)).toEqual(['Notice1', 'Recovered']);
    expect(named('CaseTerminated')).toEqual([]);
  });
});

describe('metrics of a case recovered by a new card', () => {
  it('counts the charge the card update made and the recovery by card_updated', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Metrics Updates Card');
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice1' && !error) setTimeout(() => void putInWorkingCard(t.stripe, subscriber.customerId), 10);
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await waitFor(async () => named('NoticeSent').some((datum) => datum.dimensions.Stage === 'Recovered'), 5000, 'the confirmation');
    // The webhook's own counts leave with its invocation's end, a moment after the email went.
    await waitFor(async () => total('RetrySucceeded') > 0, 5000, "the charge's count");

    expect(dunningCase.recoveredBy).toBe('card_updated');
    expect(total('RetrySucceeded')).toBe(1);
    expect(named('CaseRecovered').map((datum) => datum.dimensions)).toEqual([{ RecoveredBy: 'card_updated' }]);
  });
});

describe('metrics of the webhook endpoint', () => {
  it('counts a delivery with a bad signature as rejected for signature_invalid', async () => {
    const response = await fetch(t.runtime.urls.webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=deadbeef' },
      body: JSON.stringify({ id: 'evt_forged', object: 'event' }),
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: expect.stringMatching(/^signature verification failed/) });
    expect(named('WebhookRejected')).toEqual([{ name: 'WebhookRejected', dimensions: { Reason: 'signature_invalid' }, value: 1 }]);
  });
});
