// What the merchant's own app and systems see of a case: GET /customers/{id}/access follows the
// case (grace at the failure, the policy's later level, full the moment it is paid, none once it
// ended), per subscription; and every state change is published on the event bus, in order, each
// valid against its JSON Schema in docs/events/, with nothing lost when PutEvents fails.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearAccessCache, requireAccess } from '../../examples/access/middleware.ts';
import type { AccessAnswer } from '#shared/dunning/access.ts';
import { assertValidEvents } from '../support/event-schemas.ts';
import { closedCase, putInWorkingCard, renew, settled, startTestRuntime, subscribeWithDecliningCard, waitFor, type TestRuntime } from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  // One test refuses PutEvents on purpose; the metric behind EventsNotPublished moves with it.
  t = await startTestRuntime({ dayMs: 250, expectAlarms: ['EventsNotPublished'] });
});
afterAll(async () => {
  await t?.close();
});

async function accessOf(customerId: string): Promise<AccessAnswer> {
  const res = await fetch(`${t.runtime.urls.app}/customers/${customerId}/access`, { headers: { authorization: `Bearer ${t.runtime.config.bannerToken}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as AccessAnswer;
}

interface ServedEvent {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  time: string;
}

async function eventsOf(customerId: string): Promise<ServedEvent[]> {
  await t.runtime.outboxStream?.drained();
  const res = await fetch(`${t.runtime.urls.app}/events?customer=${customerId}`);
  return (await res.json()) as ServedEvent[];
}

describe('the access API follows the case', () => {
  it('answers full before any failure, grace at the failure, limited from the policy day, and full the moment it is paid', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Access Follows');
    const seen: Array<[string, AccessAnswer]> = [];
    expect((await accessOf(subscriber.customerId)).access).toBe('full');
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (error) return;
      if (state === 'Notice1' || state === 'Notice2' || state === 'Notice3') seen.push([state, await accessOf(subscriber.customerId)]);
      if (state === 'Notice3') await putInWorkingCard(t.stripe, subscriber.customerId);
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId, 60_000);
    expect(dunningCase.status).toBe('recovered');
    const after = await accessOf(subscriber.customerId);

    expect(seen.map(([state, answer]) => [state, answer.access])).toEqual([
      ['Notice1', 'grace'],
      ['Notice2', 'grace'],
      // The shipped policy: limited from day 7, as Notice3 runs.
      ['Notice3', 'limited'],
    ]);
    const [, atFailure] = seen[0]!;
    expect(atFailure.subscriptions).toEqual([{ subscription: subscriber.subscriptionId, access: 'grace', invoice: dunningCase.invoiceId, stage: 'Notice1' }]);
    // An app may cache the answer until it changes next: grace holds until Notice3's day.
    expect(atFailure.until).not.toBeNull();
    expect(Date.parse(atFailure.until!)).toBeGreaterThan(Date.parse(atFailure.since!));
    // Never stale after the payment: the case is read again, by key.
    expect(after).toMatchObject({ access: 'full', reason: 'paid', until: null });
    expect(after.subscriptions).toEqual([{ subscription: subscriber.subscriptionId, access: 'full', invoice: null, stage: null }]);
  });

  it('cuts only the subscription in dunning: a second, healthy subscription keeps full, and so does the customer', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Two Subscriptions');
    // A prepaid annual plan on its own good card, renewing at the same time.
    const good = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: subscriber.customerId });
    const annual = await t.stripe.subscriptions.create({ customer: subscriber.customerId, items: [{ price: subscriber.priceId }], default_payment_method: good.id });
    let atNotice3: AccessAnswer | undefined;
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice3' && !error) atNotice3 = await accessOf(subscriber.customerId);
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId, 60_000);
    expect(dunningCase.status).toBe('terminated');
    const ended = await accessOf(subscriber.customerId);

    expect(atNotice3?.access).toBe('full');
    expect(atNotice3?.subscriptions).toEqual(
      expect.arrayContaining([
        { subscription: subscriber.subscriptionId, access: 'limited', invoice: dunningCase.invoiceId, stage: 'Notice3' },
        { subscription: annual.id, access: 'full', invoice: null, stage: null },
      ]),
    );
    expect(ended.access).toBe('full');
    expect(ended.subscriptions).toEqual(
      expect.arrayContaining([
        { subscription: subscriber.subscriptionId, access: 'none', invoice: dunningCase.invoiceId, stage: 'Terminate' },
        { subscription: annual.id, access: 'full', invoice: null, stage: null },
      ]),
    );
  });
});

describe('the Express middleware of examples/access/, against the local runtime', () => {
  it('lets a customer in while in grace, turns them away once limited, and lets them back in once they pay', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Gated App');
    const app = express();
    app.use('/app', requireAccess({ baseUrl: t.runtime.urls.app, token: t.runtime.config.bannerToken, customerOf: (req) => String(req.headers['x-customer'] ?? '') }));
    app.get('/app/dashboard', (_req, res) => void res.json({ ok: true }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/app/dashboard`;
    const visit = async () => {
      clearAccessCache(subscriber.customerId);
      return (await fetch(url, { headers: { 'x-customer': subscriber.customerId } })).status;
    };
    const statuses: Array<[string, number]> = [];
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (error || (state !== 'Notice1' && state !== 'Notice3')) return;
      statuses.push([state, await visit()]);
      if (state === 'Notice3') await putInWorkingCard(t.stripe, subscriber.customerId);
    });
    try {
      statuses.push(['before', await visit()]);
      await renew(t.stripe, subscriber);
      expect((await closedCase(t.runtime, subscriber.subscriptionId, 60_000)).status).toBe('recovered');
      statuses.push(['paid', await visit()]);
    } finally {
      server.close();
    }
    expect(statuses).toEqual([['before', 200], ['Notice1', 200], ['Notice3', 403], ['paid', 200]]);
  });
});

describe('events follow the case', () => {
  it('publishes a terminated case in order, each valid against its schema, and loses none when PutEvents fails', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Never Pays Events');
    // The bus fails: the first publish's every attempt (the SDK tries 3 times), and the retry's first.
    t.runtime.eventBridge.failNext(4, 'internal');

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId, 60_000);
    expect(dunningCase.status).toBe('terminated');
    await settled(t.runtime);
    const events = await waitFor(async () => {
      const got = await eventsOf(subscriber.customerId);
      return got.some((e) => e.detailType === 'Access Changed' && e.detail.access === 'none') ? got : undefined;
    }, 30_000, 'the events of the terminated case');

    expect(events.map((e) => (e.detailType === 'Access Changed' ? `Access Changed: ${String(e.detail.access)}` : `${e.detailType}${e.detail.stage ? ` ${String(e.detail.stage)}` : ''}`))).toEqual([
      'Case Opened',
      'Access Changed: grace',
      'Notice Sent Notice1',
      'Retry Attempted Retry1',
      'Notice Sent Notice2',
      'Retry Attempted Retry2',
      'Access Changed: limited',
      'Notice Sent Notice3',
      'Retry Attempted Retry3',
      'Case Terminated Terminate',
      'Access Changed: none',
    ]);
    assertValidEvents(events);
    expect(new Set(events.map((e) => e.detail.eventId)).size).toBe(events.length);
    for (const event of events) {
      expect(event.source).toBe('stripe-dunning');
      expect(event.detail).toMatchObject({ invoiceId: dunningCase.invoiceId, customerId: subscriber.customerId, subscriptionId: subscriber.subscriptionId, amount: 1500, currency: 'gbp' });
      // Never an address or a name.
      expect(JSON.stringify(event.detail)).not.toContain(subscriber.email);
      expect(JSON.stringify(event.detail)).not.toContain('Never Pays');
    }
    const retries = events.filter((e) => e.detailType === 'Retry Attempted');
    expect(retries.map((e) => [e.detail.outcome, e.detail.declineClass])).toEqual([
      ['declined', 'retry_later'],
      ['declined', 'retry_later'],
      ['declined', 'retry_later'],
    ]);
    expect(events.at(-2)!.detail.endAction).toBe('cancel_now');
    // The console's case page lists them.
    const consoleData = (await (await fetch(`${t.runtime.urls.app}/console/data`)).json()) as { cases: Array<{ case: { invoiceId: string }; events: Array<{ detailType: string }> }> };
    const row = consoleData.cases.find((c) => c.case.invoiceId === dunningCase.invoiceId);
    expect(row?.events.map((e) => e.detailType)).toEqual(events.map((e) => e.detailType));
    // Nothing is left owed in the outbox.
    expect(await t.runtime.store.pendingEntries(new Date(Date.now() + 60_000).toISOString(), 100)).toEqual([]);
  });
});
