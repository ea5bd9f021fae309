// Pre-dunning, end to end through the Stripe sandbox and the webhook: the sandbox sends
// invoice.upcoming 3 days before each renewal, and a card that expires before the renewal gets
// one heads-up, unless Stripe's card account updater renews the card first.
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentNotice } from '#shared/dunning/notice-query.ts';
import { ingestStripeEvent } from '#shared/dunning/ingest.ts';
import type { IngestDeps } from '#shared/dunning/deps.ts';
import type { StripeEventEnvelope } from '#shared/dunning/invoice-event.ts';
import { cardExpiresBefore } from '#shared/dunning/pre-dunning.ts';
import { en } from '#shared/notices/locales/en.ts';
import { DAY, nearRenewal, subscribe } from '../fixtures/renewals.ts';
import { deliver, latestEvent, startTestRuntime, subjectsTo, withDeliveriesPaused, type TestRuntime } from '../fixtures/scenario.ts';
import { openCaseQuietly, realDeps } from '../fixtures/stage-deps.ts';

const HEADS_UP = en.messages.card_expiring.subject;

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ dayMs: 60_000 });
});
afterAll(async () => {
  await t?.close();
});

async function autoUpdate(runtime: TestRuntime, cardId: string): Promise<void> {
  runtime.runtime.sandbox!.updateCardAutomatically(cardId, { exp_month: 12, exp_year: new Date().getUTCFullYear() + 4 });
  await runtime.runtime.sandbox!.idle();
}

describe('a card that expires before the renewal', () => {
  it('gets one heads-up with the update link and a banner, before the renewal', async () => {
    const r = await subscribe(t.stripe, 'Expiring Soon', { expiring: true });

    await nearRenewal(t, r);
    const banner = await currentNotice(t.runtime.store, r.customerId);

    expect(await subjectsTo(t.runtime, r.email)).toEqual([HEADS_UP]);
    expect(banner).toMatchObject({ stage: 'PreDunning', severity: 'info', action: { url: expect.stringContaining('/p/session/') } });
    expect((await t.runtime.store.getHeadsUp(r.customerId, r.cardId))?.claims).toEqual([`${r.subscriptionId}@${r.periodEnd}`]);
    expect((await t.stripe.subscriptions.retrieve(r.subscriptionId)).status).toBe('active');
  });

  it('sends nothing twice when invoice.upcoming is delivered again, or sent again for the same renewal', async () => {
    const r = await subscribe(t.stripe, 'Delivered Twice', { expiring: true });
    await nearRenewal(t, r);
    const payload = await latestEvent(t.stripe, 'invoice.upcoming', r.customerId);

    const redelivered = await deliver(t.runtime, payload);
    const resent = await deliver(t.runtime, payload.replace(/"id": "evt_[A-Za-z0-9]+"/, '"id": "evt_resent0000000000000000"'));

    expect(redelivered.status).toBe(200);
    expect(resent.body).toMatchObject({ action: 'ignored', reason: expect.stringMatching(/already sent/) });
    expect(await subjectsTo(t.runtime, r.email)).toEqual([HEADS_UP]);
  });
});

describe('a card that is still valid at the renewal', () => {
  it('gets no heads-up', async () => {
    const r = await subscribe(t.stripe, 'Valid Card', { expiring: false });

    await nearRenewal(t, r);

    expect(await latestEvent(t.stripe, 'invoice.upcoming', r.customerId)).toBeTruthy();
    expect(await subjectsTo(t.runtime, r.email)).toEqual([]);
    expect(await currentNotice(t.runtime.store, r.customerId)).toBeUndefined();
  });
});

describe('payment_method.automatically_updated', () => {
  it('before the heads-up: no heads-up goes out', async () => {
    const r = await subscribe(t.stripe, 'Updated Before', { expiring: true });

    await autoUpdate(t, r.cardId);
    await nearRenewal(t, r);

    expect(await subjectsTo(t.runtime, r.email)).toEqual([]);
    expect((await t.runtime.store.getHeadsUp(r.customerId, r.cardId))?.updatedExpiry).toMatch(/^\d{4}-12$/);
  });

  it('when Stripe still reports the old expiry to a late read: the claim is refused', async () => {
    const r = await subscribe(t.stripe, 'Stale Read', { expiring: true });
    await withDeliveriesPaused(t.runtime, () => nearRenewal(t, r));
    const upcoming = await latestEvent(t.stripe, 'invoice.upcoming', r.customerId);
    await autoUpdate(t, r.cardId);
    // The card as a slow replica would still show it: expiring.
    const stale = new Date();
    const deps: IngestDeps = {
      ...realDeps(t),
      stripe: new Proxy(realDeps(t).stripe, {
        get: (target, key, receiver) =>
          key === 'getRenewalCard'
            ? async () => ({ id: r.cardId, expMonth: stale.getUTCMonth() + 1, expYear: stale.getUTCFullYear() })
            : Reflect.get(target, key, receiver),
      }),
      workflow: { start: () => Promise.reject(new Error('unused')), stop: () => Promise.resolve() },
      livemode: false,
    };

    const result = await ingestStripeEvent(deps, JSON.parse(upcoming) as StripeEventEnvelope);

    expect(result).toMatchObject({ action: 'ignored', reason: expect.stringMatching(/updated the card/) });
    expect(await subjectsTo(t.runtime, r.email)).toEqual([]);
  });

  it('after the heads-up: its banner is cleared and the update recorded', async () => {
    const r = await subscribe(t.stripe, 'Updated After', { expiring: true });
    await nearRenewal(t, r);
    const bannerBefore = await currentNotice(t.runtime.store, r.customerId);

    await autoUpdate(t, r.cardId);

    expect(bannerBefore?.stage).toBe('PreDunning');
    expect(await currentNotice(t.runtime.store, r.customerId)).toBeUndefined();
    expect(await t.runtime.store.getHeadsUp(r.customerId, r.cardId)).toMatchObject({ cardUpdatedAt: expect.any(String), claims: [expect.any(String)] });
    expect(await subjectsTo(t.runtime, r.email)).toEqual([HEADS_UP]);
  });
});

describe('a customer whose case is open already', () => {
  it('gets the dunning notices, not a heads-up', async () => {
    const c = await openCaseQuietly(t, 'Already Dunned');
    const card = (await t.stripe.customers.retrieve(c.customerId)) as Stripe.Customer;
    const subscription = await t.stripe.subscriptions.retrieve(c.subscriptionId);
    const nextRenewal = subscription.items.data[0]!.current_period_end;
    // Good through the month before the renewal month.
    const thisMonth = new Date((nextRenewal - 35 * DAY) * 1000);
    await t.stripe.paymentMethods.update(card.invoice_settings.default_payment_method as string, {
      card: { exp_month: thisMonth.getUTCMonth() + 1, exp_year: thisMonth.getUTCFullYear() },
    });

    await t.stripe.testHelpers.testClocks.advance(card.test_clock as string, { frozen_time: nextRenewal - 2 * DAY });
    await t.runtime.sandbox!.idle();

    expect(await latestEvent(t.stripe, 'invoice.upcoming', c.customerId)).toBeTruthy();
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([]);
  });
});

describe('the legacy customer.source.expiring', () => {
  it('sends the heads-up for each renewal the expiring source would pay', async () => {
    const r = await subscribe(t.stripe, 'Legacy Source', { expiring: false });
    const now = new Date();
    const source = { id: 'card_legacy0000000000000000', object: 'card', customer: r.customerId, exp_month: now.getUTCMonth() + 1, exp_year: now.getUTCFullYear(), last4: '4242', brand: 'Visa' };
    // The sandbox keeps no legacy sources: the renewal charging this one is stubbed at the gateway.
    const base = realDeps(t);
    const deps: IngestDeps = {
      ...base,
      stripe: new Proxy(base.stripe, {
        get: (target, key, receiver) =>
          key === 'getRenewalCard' ? async () => ({ id: source.id, expMonth: source.exp_month, expYear: source.exp_year }) : Reflect.get(target, key, receiver),
      }),
      workflow: { start: () => Promise.reject(new Error('unused')), stop: () => Promise.resolve() },
      livemode: false,
    };
    const event = { id: 'evt_legacy00000000000000000', object: 'event', type: 'customer.source.expiring', created: Math.floor(now.getTime() / 1000), livemode: false, data: { object: source } };

    const first = await ingestStripeEvent(deps, event as StripeEventEnvelope);
    const again = await ingestStripeEvent(deps, { ...event, id: 'evt_legacy00000000000000001' } as StripeEventEnvelope);

    expect(first).toMatchObject({ action: 'heads_up_sent', subscriptionId: r.subscriptionId, notice: 'sent' });
    expect(again.action).toBe('ignored');
    expect(await subjectsTo(t.runtime, r.email)).toEqual([HEADS_UP]);
  });
});

describe('cardExpiresBefore', () => {
  it('treats a card as good through the last day of its expiry month', () => {
    const card = { expMonth: 2, expYear: 2027 };

    expect(cardExpiresBefore(card, Date.UTC(2027, 1, 28, 23, 59) / 1000)).toBe(false);
    expect(cardExpiresBefore(card, Date.UTC(2027, 2, 1) / 1000)).toBe(true);
    expect(cardExpiresBefore({ expMonth: 12, expYear: 2026 }, Date.UTC(2027, 0, 1) / 1000)).toBe(true);
  });
});
