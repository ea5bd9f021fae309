// Counts the Stripe requests the product itself makes (the functions, through the runtime's Stripe
// tap; the test's own setup calls go to the sandbox directly) on each path a case takes, and holds
// them to the README's "Stripe requests per path" table. A regression fails naming the extra call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeCall } from '#local/stripe-tap.ts';
import {
  closedCase,
  putInWorkingCard,
  renew,
  settled,
  startTestRuntime,
  subscribeWithDecliningCard,
  waitFor,
  withDeliveriesPaused,
  type Subscriber,
  type TestRuntime,
} from '../fixtures/scenario.ts';

const calls: StripeCall[] = [];
let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ dayMs: 100, stripeCallTap: { answered: (call) => void calls.push(call) } });
});
afterAll(async () => {
  await t?.close();
});

/** `send-notice GET /v1/invoices/{id}`: who asked, and what, without ids or query. */
function named(call: StripeCall): string {
  const path = call.path.split('?')[0]!.replace(/\/[a-z]+_[A-Za-z0-9]+(?=\/|$)/g, '/{id}');
  return `${call.functionName} ${call.method} ${path}`;
}

const isCharge = (request: string) => /POST \/v1\/invoices\/\{id\}\/pay$/.test(request);
const isCancel = (request: string) => /DELETE \/v1\/subscriptions\/\{id\}$/.test(request);

/**
 * A subscriber whose clock stands an hour before the renewal: the heads-up check of its
 * `invoice.upcoming` (pre-dunning, a path of its own) is behind it, so what is counted next is the
 * failure's.
 */
async function subscriberBeforeRenewal(name: string): Promise<Subscriber> {
  const subscriber = await withDeliveriesPaused(t.runtime, () => subscribeWithDecliningCard(t.stripe, name));
  await t.stripe.testHelpers.testClocks.advance(subscriber.clockId, { frozen_time: subscriber.periodEnd - 3600 });
  await quiet();
  return subscriber;
}

/** Everything still moving on a path (a stopped execution's stage, a late webhook) belongs to it. */
async function quiet(): Promise<void> {
  await settled(t.runtime);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await settled(t.runtime);
}

/** The product's requests while `act` runs and the runtime settles after it. */
async function requestsDuring(act: () => Promise<unknown>): Promise<string[]> {
  await quiet();
  const from = calls.length;
  await act();
  await quiet();
  return calls.slice(from).map(named);
}

describe('the Stripe requests the product makes', () => {
  it("checks the card an upcoming renewal will charge (pre-dunning's invoice.upcoming) with one read", async () => {
    const subscriber = await withDeliveriesPaused(t.runtime, () => subscribeWithDecliningCard(t.stripe, 'Renews Soon'));

    const requests = await requestsDuring(() => t.stripe.testHelpers.testClocks.advance(subscriber.clockId, { frozen_time: subscriber.periodEnd - 3600 }));

    console.log(`invoice.upcoming: ${requests.length} request(s)\n  ${requests.join('\n  ')}`);
    expect(requests).toEqual([RENEWAL_CARD]);
  });

  it('opens a case for a fresh invoice.payment_failed with one read, and sends its first notice with one more', async () => {
    const subscriber = await subscriberBeforeRenewal('Fresh Failure');
    // The first notice is held until the opening's requests are counted.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let atNotice1 = -1;
    t.onStage(subscriber.customerId, async ({ state }) => {
      if (state === 'Notice1') atNotice1 = calls.length;
      await held;
    });
    await quiet();
    const from = calls.length;

    await renew(t.stripe, subscriber);
    await waitFor(async () => atNotice1 >= 0, 10_000, 'the first notice');
    const opening = calls.slice(from).filter((c) => c.functionName === 'route-events').map(named);
    const notice1 = calls.slice(from, atNotice1).filter((c) => c.functionName === 'send-notice').map(named);
    release();
    await closedCase(t.runtime, subscriber.subscriptionId);
    await quiet();

    console.log(`fresh invoice.payment_failed: ${opening.length} request(s)\n  ${opening.join('\n  ')}\nNotice1: ${notice1.length}\n  ${notice1.join('\n  ')}`);
    expect(opening).toEqual([OPENING]);
    expect(notice1).toEqual([NOTICE]);
  });

  it('ends the terminated path with three charges, one cancel and the reads it keeps', async () => {
    const subscriber = await subscriberBeforeRenewal('Never Pays');

    const requests = await requestsDuring(async () => {
      await renew(t.stripe, subscriber);
      expect((await closedCase(t.runtime, subscriber.subscriptionId)).status).toBe('terminated');
    });

    console.log(`terminated: ${requests.length} request(s)\n  ${requests.join('\n  ')}`);
    expect(requests.filter(isCharge)).toEqual(Array(3).fill('retry-payment POST /v1/invoices/{id}/pay'));
    expect(requests.filter(isCancel)).toEqual(['close-case DELETE /v1/subscriptions/{id}']);
    expect(requests.filter((r) => !isCharge(r) && !isCancel(r)).sort()).toEqual([...TERMINATED_READS].sort());
  });

  it('recovers at Retry1 with one charge and the reads it keeps', async () => {
    const subscriber = await subscriberBeforeRenewal('Pays At Retry1');
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      // The card-update events are lost, so only the scheduled retry can notice the new card.
      if (state === 'Notice1' && !error) await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, subscriber.customerId));
    });

    const requests = await requestsDuring(async () => {
      await renew(t.stripe, subscriber);
      expect((await closedCase(t.runtime, subscriber.subscriptionId)).status).toBe('recovered');
    });

    console.log(`recovered at Retry1: ${requests.length} request(s)\n  ${requests.join('\n  ')}`);
    expect(requests.filter(isCharge)).toEqual(['retry-payment POST /v1/invoices/{id}/pay']);
    expect(requests.filter((r) => !isCharge(r)).sort()).toEqual([...RECOVERED_AT_RETRY1_READS].sort());
  });
});

// The reads each path keeps, in the order they are made; the README's "Stripe requests per path"
// names why each stays.
/** The failure's own: is the invoice still open, why did the renewal's attempt fail, and who is the customer. */
const OPENING = 'route-events GET /v1/invoices/{id}';
/** Pre-dunning's: the card as Stripe holds it now (the event's may have been replaced), the customer's defaults expanded. */
const RENEWAL_CARD = 'route-events GET /v1/subscriptions/{id}';
/** Each notice's: a customer who has paid (or whose invoice was voided) unheard is not nagged. */
const NOTICE = 'send-notice GET /v1/invoices/{id}';
/** Each scheduled charge's: paid, voided or written off unheard, Stripe's own attempt due, and the card it would charge. */
const CHARGE = 'retry-payment GET /v1/invoices/{id}';
/** Terminate's: a payment whose webhook is late must not cost a subscription. */
const TERMINATE = 'close-case GET /v1/invoices/{id}';

const TERMINATED_READS = [OPENING, NOTICE, CHARGE, NOTICE, CHARGE, NOTICE, CHARGE, TERMINATE];
const RECOVERED_AT_RETRY1_READS = [OPENING, NOTICE, CHARGE];
