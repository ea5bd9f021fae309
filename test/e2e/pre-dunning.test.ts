// Pre-dunning, end to end through the Stripe sandbox and the webhook: the sandbox sends
// invoice.upcoming 3 days before each renewal, and a card that expires before the renewal gets
// one heads-up, with our own one-click link, unless Stripe's card account updater renews the card
// first. A card the updater renews while a case is open is charged at once.
import type { Workflow } from '#shared/domain/ports.ts';
import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent } from 'aws-lambda';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '#functions/open-payment-link/handler.ts';
import { readSesInbox } from '#local/ses.ts';
import { createDynamoDocumentClient } from '#shared/adapters/aws-clients.ts';
import { DynamoRateLimiter } from '#shared/adapters/dynamodb-rate-limiter.ts';
import { silentLog } from '#shared/dunning/deps.ts';
import { currentBanner } from '#shared/dunning/current-banner.ts';
import { ingestStripeEvent } from '#shared/dunning/ingest.ts';
import type { IngestDeps } from '#shared/dunning/deps.ts';
import type { StripeEventEnvelope } from '#shared/dunning/invoice-event.ts';
import { cardExpiresBefore } from '#shared/dunning/pre-dunning.ts';
import { en } from '#shared/notices/locales/en.ts';
import { DAY, nearRenewal, subscribe } from '../fixtures/renewals.ts';
import {
  caseFor,
  closedCase,
  deliver,
  latestEvent,
  putInWorkingCard,
  renew,
  startTestRuntime,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  withDeliveriesPaused,
  type TestRuntime,
} from '../fixtures/scenario.ts';
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

const LINK = /https?:\/\/[^\s"<>]+\/u\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;

/** The heads-up email as the customer got it, and the update link in it. */
async function headsUpEmail(runtime: TestRuntime, address: string): Promise<{ link: string; text: string; html: string }> {
  const email = await waitFor(async () => (await readSesInbox(runtime.runtime.urls.ses)).find((m) => m.to.includes(address) && m.subject === HEADS_UP), 10_000, 'the heads-up');
  const link = LINK.exec(email.text ?? '')?.[0];
  if (!link) throw new Error(`no update link in the heads-up:\n${email.text}`);
  return { link, text: email.text ?? '', html: email.html ?? '' };
}

const open = (url: string) => fetch(url, { redirect: 'manual' });

/** The link endpoint as deployed, on the runtime's table and Stripe, with its clock set to `now`. */
function linkEndpointAt(runtime: TestRuntime, now: Date) {
  const deps = realDeps(runtime);
  const handler = createHandler(async () => ({
    store: deps.store,
    stripe: deps.stripe,
    limiter: new DynamoRateLimiter(createDynamoDocumentClient({}), runtime.runtime.config.tableName),
    signingKey: runtime.runtime.config.linkSigningKey,
    myAccountUrl: runtime.runtime.policy.brand.myAccountUrl,
    brandName: runtime.runtime.policy.brand.productName,
    clock: { now: () => now },
    log: silentLog,
  }));
  return async (link: string) => {
    const event = { rawPath: new URL(link).pathname, requestContext: { http: { method: 'GET' } } } as unknown as LambdaFunctionURLEvent;
    return (await handler(event)) as APIGatewayProxyStructuredResultV2;
  };
}

describe('a card that expires before the renewal', () => {
  it('gets one heads-up with the update link and a banner, before the renewal', async () => {
    const r = await subscribe(t.stripe, 'Expiring Soon', { expiring: true });

    await nearRenewal(t, r);
    const banner = await currentBanner(t.runtime.store, r.customerId);

    expect(await subjectsTo(t.runtime, r.email)).toEqual([HEADS_UP]);
    expect(banner).toMatchObject({ stage: 'PreDunning', severity: 'info', action: { url: expect.stringContaining('/u/') } });
    expect((await t.runtime.store.getHeadsUp(r.customerId, r.cardId))?.claims).toEqual([`${r.subscriptionId}@${r.periodEnd}`]);
    expect((await t.stripe.subscriptions.retrieve(r.subscriptionId)).status).toBe('active');
  });

  it('carries our own short link, in the email and the banner, which opens a fresh billing portal session each time', async () => {
    const r = await subscribe(t.stripe, 'Short Link', { expiring: true });
    await nearRenewal(t, r);
    const { link, text, html } = await headsUpEmail(t, r.email);
    const banner = await currentBanner(t.runtime.store, r.customerId);

    const first = await open(link);
    const second = await open(link);

    expect(link.startsWith(`${t.runtime.urls.app}/u/`)).toBe(true);
    expect(html).toContain(`href="${link}"`);
    expect(`${text}${html}`).not.toContain('/p/session/');
    expect(banner?.action.url).toBe(link);
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toMatch(new RegExp(`^${t.runtime.urls.stripe}/p/session/bps_`));
    expect(second.headers.get('location')).toMatch(/\/p\/session\/bps_/);
    expect(second.headers.get('location')).not.toBe(first.headers.get('location'));
    // The portal session is this customer's, on the card-update flow that returns to My Account.
    const page = await (await fetch(first.headers.get('location')!)).text();
    expect(page).toContain('Update your payment method');
  });

  it('gets the friendly expired page when the link is opened after the renewal it was about', async () => {
    const r = await subscribe(t.stripe, 'Late Click', { expiring: true });
    await nearRenewal(t, r);
    const { link } = await headsUpEmail(t, r.email);
    const renewal = (await t.stripe.subscriptions.retrieve(r.subscriptionId)).items.data[0]!.current_period_end;

    const before = await linkEndpointAt(t, new Date((renewal - 3600) * 1000))(link);
    const after = await linkEndpointAt(t, new Date((renewal + 1) * 1000))(link);

    // The renewal is Stripe's (test clock) time, a month from now: the link lives until then, or 30 days.
    const expiresAt = Math.min(renewal, Math.floor(Date.now() / 1000) + 30 * DAY);
    if (expiresAt > renewal - 3600) expect(before.statusCode).toBe(302);
    expect(after.statusCode).toBe(410);
    expect(after.headers?.location).toBeUndefined();
    expect(after.body).toContain('This link has expired');
    expect(after.body).toContain(`href="${t.runtime.policy.brand.myAccountUrl}"`);
  });

  it('answers as the case once the renewal has failed: the portal while it is open, thanks once it is paid', async () => {
    const r = await subscribe(t.stripe, 'Failed Anyway', { expiring: true });
    await nearRenewal(t, r);
    const { link } = await headsUpEmail(t, r.email);
    const declining = await t.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: r.customerId });
    await t.stripe.customers.update(r.customerId, { invoice_settings: { default_payment_method: declining.id } });
    await t.stripe.testHelpers.testClocks.advance(r.clockId, { frozen_time: r.periodEnd + 3600 });
    const dunningCase = await waitFor(() => caseFor(t.runtime, r.subscriptionId), 10_000, 'the case');

    const whileOpen = await open(link);
    await t.stripe.invoices.pay(dunningCase.invoiceId, { payment_method: 'pm_card_visa' });
    await closedCase(t.runtime, r.subscriptionId);
    const oncePaid = await open(link);

    expect(whileOpen.status).toBe(302);
    expect(whileOpen.headers.get('location')).toMatch(/\/p\/session\/bps_/);
    expect(oncePaid.status).toBe(200);
    expect(oncePaid.headers.get('location')).toBeNull();
    expect(await oncePaid.text()).toContain('already sorted');
  });

  it('points to My Account, without opening the portal, once the subscription is canceled', async () => {
    const r = await subscribe(t.stripe, 'Canceled Since', { expiring: true });
    await nearRenewal(t, r);
    const { link } = await headsUpEmail(t, r.email);

    await t.stripe.subscriptions.cancel(r.subscriptionId);
    const response = await open(link);

    expect(response.status).toBe(410);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('no longer needed');
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
    expect(await currentBanner(t.runtime.store, r.customerId)).toBeUndefined();
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
      workflow: unusedWorkflow,
      livemode: false,
    };

    const result = await ingestStripeEvent(deps, JSON.parse(upcoming) as StripeEventEnvelope);

    expect(result).toMatchObject({ action: 'ignored', reason: expect.stringMatching(/updated the card/) });
    expect(await subjectsTo(t.runtime, r.email)).toEqual([]);
  });

  it('after the heads-up: its banner is cleared and the update recorded', async () => {
    const r = await subscribe(t.stripe, 'Updated After', { expiring: true });
    await nearRenewal(t, r);
    const bannerBefore = await currentBanner(t.runtime.store, r.customerId);

    await autoUpdate(t, r.cardId);

    expect(bannerBefore?.stage).toBe('PreDunning');
    expect(await currentBanner(t.runtime.store, r.customerId)).toBeUndefined();
    expect(await t.runtime.store.getHeadsUp(r.customerId, r.cardId)).toMatchObject({ cardUpdatedAt: expect.any(String), claims: [expect.any(String)] });
    expect(await subjectsTo(t.runtime, r.email)).toEqual([HEADS_UP]);
  });
});

describe('payment_method.automatically_updated with a case open', () => {
  /** A failed renewal with its case open, and the card it declined on. */
  async function dunned(name: string) {
    const subscriber = await subscribeWithDecliningCard(t.stripe, name);
    await renew(t.stripe, subscriber);
    const dunningCase = await waitFor(async () => {
      const found = await caseFor(t.runtime, subscriber.subscriptionId);
      return found?.executionArn ? found : undefined;
    }, 10_000, 'the case');
    const customer = (await t.stripe.customers.retrieve(subscriber.customerId)) as Stripe.Customer;
    return { subscriber, dunningCase, declinedCard: customer.invoice_settings.default_payment_method as string };
  }

  /** Stripe's card account updater, as a test plays it: the sandbox's own endpoint. */
  async function renewCardInPlace(cardId: string, reissuedAs?: string): Promise<void> {
    const response = await fetch(`${t.runtime.urls.stripe}/_sandbox/payment_methods/${cardId}/automatically_update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ exp_month: 11, exp_year: new Date().getUTCFullYear() + 3, reissued_as: reissuedAs }),
    });
    expect(response.status).toBe(200);
    await t.runtime.sandbox!.idle();
  }

  const cardUpdateSteps = async (invoiceId: string) =>
    (await t.runtime.store.listTimeline(invoiceId)).filter((e) => e.stage === 'CardUpdated').map((e) => `${e.type}:${e.detail}`);

  it('charges the renewed card at once, as a new card would, and the case recovers', async () => {
    const { subscriber, dunningCase } = await dunned('Renewed In Place');
    // A working card became the default while no one was listening; the updater then renews it.
    const working = await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, subscriber.customerId));

    await renewCardInPlace(working);

    const closed = await closedCase(t.runtime, subscriber.subscriptionId, 15_000);
    expect(closed).toMatchObject({ status: 'recovered', recoveredBy: 'card_updated' });
    expect(await cardUpdateSteps(dunningCase.invoiceId)).toEqual(['retry_paid:payment_method.automatically_updated']);
    expect(await waitFor(async () => (await subjectsTo(t.runtime, subscriber.email)).includes(SUBJECTS.recovered), 10_000, 'the confirmation')).toBe(true);
  });

  it('retries the card the case declined on once it is renewed, and the sequence goes on after a decline', async () => {
    const { dunningCase, declinedCard } = await dunned('Renewed Still Declines');

    await renewCardInPlace(declinedCard);

    expect(await cardUpdateSteps(dunningCase.invoiceId)).toEqual([expect.stringMatching(/^retry_declined:/)]);
    expect((await t.runtime.store.getCase(dunningCase.invoiceId))?.status).toBe('open');
  });

  it('lifts the block on a card lost and reissued in place, charges it, and the case recovers', async () => {
    const { subscriber, dunningCase, declinedCard } = await dunned('Reissued Lost Card');
    // As a retry leaves it after the bank's lost_card decline: this card is not charged again.
    await t.runtime.store.blockPaymentMethod(dunningCase.invoiceId, { id: declinedCard, code: 'lost_card', at: new Date().toISOString() });

    await renewCardInPlace(declinedCard, 'pm_card_visa');

    const closed = await closedCase(t.runtime, subscriber.subscriptionId, 15_000);
    expect(closed).toMatchObject({ status: 'recovered', recoveredBy: 'card_updated' });
    expect(closed?.blockedPaymentMethod).toBeUndefined();
    expect(await cardUpdateSteps(dunningCase.invoiceId)).toEqual([
      'card_unblocked:payment_method.automatically_updated: reissued after lost_card',
      'retry_paid:payment_method.automatically_updated',
    ]);
  });

  it('keeps the block when a reissue cannot fix it (fraud): the card is not charged', async () => {
    const { dunningCase, declinedCard } = await dunned('Reissued Fraud Card');
    await t.runtime.store.blockPaymentMethod(dunningCase.invoiceId, { id: declinedCard, code: 'fraudulent', at: new Date().toISOString() });

    await renewCardInPlace(declinedCard, 'pm_card_visa');

    expect(await cardUpdateSteps(dunningCase.invoiceId)).toEqual(['retry_skipped:same card, fraudulent']);
    expect(await t.runtime.store.getCase(dunningCase.invoiceId)).toMatchObject({ status: 'open', blockedPaymentMethod: { id: declinedCard, code: 'fraudulent' } });
  });

  it('does not retry when the renewed card is not the one the case is charged with', async () => {
    const { subscriber, dunningCase } = await dunned('Renewed Other Card');
    const spare = await withDeliveriesPaused(t.runtime, () => t.stripe.paymentMethods.attach('pm_card_visa', { customer: subscriber.customerId }));

    await renewCardInPlace(spare.id);

    expect(await cardUpdateSteps(dunningCase.invoiceId)).toEqual([]);
    expect((await t.runtime.store.getCase(dunningCase.invoiceId))?.status).toBe('open');
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
      workflow: unusedWorkflow,
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

/** Pre-dunning never starts an execution: any use of the workflow is a bug here. */
const unusedWorkflow: Workflow = {
  start: () => Promise.reject(new Error('unused')),
  stop: () => Promise.resolve(),
  executionArn: () => {
    throw new Error('unused');
  },
  describe: () => Promise.reject(new Error('unused')),
  lastState: () => Promise.reject(new Error('unused')),
  redrive: () => Promise.reject(new Error('unused')),
};
