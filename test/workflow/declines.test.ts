// Declines a retry cannot fix: a hard decline (lost, stolen, fraudulent card…) or a card that needs
// the customer's authentication is not charged again; a new card is charged at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closedCase,
  putInWorkingCard,
  renew,
  retrySteps,
  startTestRuntime,
  subjectsOnceThanked,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  type TestRuntime,
} from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ dayMs: 100 });
});
afterAll(async () => {
  await t?.close();
});

const steps = (invoiceId: string) => retrySteps(t.runtime, invoiceId);

/** The customer's card that the renewal charged (their default), and every charge Stripe made on it. */
const chargesOn = async (customerId: string, card: string) =>
  (await t.stripe.charges.list({ customer: customerId, limit: 100 })).data.filter((c) => c.payment_method === card);
const defaultCard = async (customerId: string) =>
  (await t.stripe.customers.retrieve(customerId)) as { invoice_settings: { default_payment_method: string } };

describe("a card that hard-declines on the renewal's own attempt", () => {
  // [token, decline code, why, as the case's timeline says it, the rule that stops it]. Radar's block
  // never reached the bank, so it carries no advice: its decline code alone blocks the card, for
  // Radar would block it again (docs.stripe.com/declines/how-declines-work#blocked-payments).
  it.each([
    ['pm_card_visa_chargeDeclinedLostCard', 'lost_card', 'card_declined: lost_card, advice do_not_try_again, network 41', 'do_not_try_again from the issuer (lost_card)'],
    ['pm_card_visa_chargeDeclinedStolenCard', 'stolen_card', 'card_declined: stolen_card, advice do_not_try_again, network 43', 'do_not_try_again from the issuer (stolen_card)'],
    ['pm_card_radarBlock', 'fraudulent', 'card_declined: fraudulent', 'fraudulent'],
  ])('is blocked when the case opens (%s): no retry charges it, and every notice still asks for a new card', async (token, code, why, rule) => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, `Hard ${code}`, token);
    const card = (await defaultCard(subscriber.customerId)).invoice_settings.default_payment_method;

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();
    const invoice = await t.stripe.invoices.retrieve(dunningCase.invoiceId);
    const timeline = await t.runtime.store.listTimeline(dunningCase.invoiceId);

    expect(await steps(dunningCase.invoiceId)).toEqual([
      `retry_skipped:Retry1:retry skipped: ${rule}; waiting for a new card`,
      `retry_skipped:Retry2:retry skipped: ${rule}; waiting for a new card`,
      `retry_skipped:Retry3:retry skipped: ${rule}; waiting for a new card`,
    ]);
    // The renewal's own attempt, and not one more: Stripe saw no charge of ours on that card.
    expect(invoice.attempt_count).toBe(1);
    expect(await chargesOn(subscriber.customerId, card)).toHaveLength(1);
    expect(dunningCase).toMatchObject({ status: 'terminated', blockedPaymentMethod: { id: card, code } });
    // Why no retry charged, for the operator reading the case.
    expect(timeline.find((e) => e.type === 'case_opened')?.detail).toBe(`attempt 1 failed (${why}); policy default`);
    expect(timeline.filter((e) => e.type === 'card_blocked').map((e) => e.detail)).toEqual([`${card}: ${why} on the renewal's own attempt`]);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
  });

  it('is replaced by a new card, which is charged at once and recovers the case', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Hard Then New', 'pm_card_visa_chargeDeclinedStolenCard');
    const stolen = (await defaultCard(subscriber.customerId)).invoice_settings.default_payment_method;
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice3' && !error) await putInWorkingCard(t.stripe, subscriber.customerId);
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    const sent = await subjectsOnceThanked(t.runtime, subscriber.email);

    expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy: 'card_updated' });
    expect(await steps(dunningCase.invoiceId)).toEqual([
      'retry_skipped:Retry1:retry skipped: do_not_try_again from the issuer (stolen_card); waiting for a new card',
      'retry_skipped:Retry2:retry skipped: do_not_try_again from the issuer (stolen_card); waiting for a new card',
      'retry_paid:CardUpdated:payment_method.attached',
    ]);
    expect(await chargesOn(subscriber.customerId, stolen)).toHaveLength(1);
    expect(sent).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.recovered]);
  });
});

// The issuer's advice confirm_card_data (docs.stripe.com/declines/card#retrying-issuer-declines):
// the same saved details fail again, so the card waits for new ones.
describe('a card whose details the bank asks to confirm (an expired card)', () => {
  it('is blocked when the case opens: no retry charges it again', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Expired Card', 'pm_card_chargeDeclinedExpiredCard');
    const card = (await defaultCard(subscriber.customerId)).invoice_settings.default_payment_method;

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();
    const timeline = await t.runtime.store.listTimeline(dunningCase.invoiceId);

    expect(await steps(dunningCase.invoiceId)).toEqual([
      'retry_skipped:Retry1:retry skipped: confirm_card_data from the issuer (expired_card); waiting for the customer',
      'retry_skipped:Retry2:retry skipped: confirm_card_data from the issuer (expired_card); waiting for the customer',
      'retry_skipped:Retry3:retry skipped: confirm_card_data from the issuer (expired_card); waiting for the customer',
    ]);
    expect(timeline.filter((e) => e.type === 'card_blocked').map((e) => e.detail)).toEqual([
      `${card}: expired_card: advice confirm_card_data, network 54 on the renewal's own attempt`,
    ]);
    expect(await chargesOn(subscriber.customerId, card)).toHaveLength(1);
    expect(dunningCase).toMatchObject({ status: 'terminated', blockedPaymentMethod: { id: card, code: 'expired_card' } });
  });
});

describe('a new card that hard-declines when we charge it', () => {
  it('is blocked from then on: the retries skip it and the notices go on', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'New Card Stolen');
    let stolen = '';
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice1' && !error) stolen = await putInWorkingCard(t.stripe, subscriber.customerId, 'pm_card_visa_chargeDeclinedStolenCard');
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();
    const timeline = await t.runtime.store.listTimeline(dunningCase.invoiceId);

    // The card's own event charged it once; every charge after that finds it blocked. (The card's
    // second event, the default changing, finds it blocked too, unless it meets Retry1 charging, when
    // it leaves the charge to it: on a slow machine either.)
    const [first, ...after] = await steps(dunningCase.invoiceId);
    expect(first).toBe('retry_declined:CardUpdated:stolen_card');
    expect(after.filter((step) => step !== 'retry_skipped:CardUpdated:same card, stolen_card')).toEqual([
      'retry_skipped:Retry1:retry skipped: do_not_try_again from the issuer (stolen_card); waiting for a new card',
      'retry_skipped:Retry2:retry skipped: do_not_try_again from the issuer (stolen_card); waiting for a new card',
      'retry_skipped:Retry3:retry skipped: do_not_try_again from the issuer (stolen_card); waiting for a new card',
    ]);
    expect(timeline.filter((e) => e.type === 'card_blocked').map((e) => e.detail)).toEqual([
      `${stolen}: card_declined: stolen_card, advice do_not_try_again, network 43`,
    ]);
    expect(await chargesOn(subscriber.customerId, stolen)).toHaveLength(1);
    expect(dunningCase.status).toBe('terminated');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
  });
});

describe('a payment the bank wants the customer to authenticate', () => {
  it('sends one action-required notice linking the invoice page and never charges the card blindly', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Needs 3DS', 'pm_card_authenticationRequired');

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();
    const invoice = await t.stripe.invoices.retrieve(dunningCase.invoiceId);
    const { readSesInbox } = await import('#local/ses.ts');
    const emails = (await readSesInbox(t.runtime.urls.ses)).filter((m) => m.to.includes(subscriber.email));
    const actionRequired = emails.filter((m) => m.subject === SUBJECTS.actionRequired);

    expect(actionRequired).toHaveLength(1);
    expect(actionRequired[0]?.html).toContain(`href="${invoice.hosted_invoice_url}"`);
    expect(await steps(dunningCase.invoiceId)).toEqual([
      'retry_skipped:Retry1:retry skipped: the bank wants the customer to authenticate (3-D Secure); waiting for the customer',
      'retry_skipped:Retry2:retry skipped: the bank wants the customer to authenticate (3-D Secure); waiting for the customer',
      'retry_skipped:Retry3:retry skipped: the bank wants the customer to authenticate (3-D Secure); waiting for the customer',
    ]);
    expect(invoice.attempt_count).toBe(1);
  });

  // Stripe answers invoices.pay on such a card with 402 invoice_payment_intent_requires_action, no
  // decline code (docs.stripe.com/error-codes), and sends invoice.payment_action_required.
  it('blocks a card put in during the case that needs 3-D Secure after its one charge, and asks the customer to confirm', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'New Card 3DS');
    let card = '';
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice1' && !error) card = await putInWorkingCard(t.stripe, subscriber.customerId, 'pm_card_authenticationRequired');
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();
    const invoice = await t.stripe.invoices.retrieve(dunningCase.invoiceId);
    const timeline = await t.runtime.store.listTimeline(dunningCase.invoiceId);
    const { readSesInbox } = await import('#local/ses.ts');
    const emails = (await readSesInbox(t.runtime.urls.ses)).filter((m) => m.to.includes(subscriber.email));

    // Its own event charged it once; every charge after that finds it blocked. (The card's second
    // event, the default changing, finds it blocked too, unless it meets Retry1 charging, when it
    // leaves the charge to it: on a slow machine either.)
    const [first, ...after] = await steps(dunningCase.invoiceId);
    expect(first).toBe('retry_declined:CardUpdated:invoice_payment_intent_requires_action');
    expect(after.filter((step) => step !== 'retry_skipped:CardUpdated:same card, authentication_required')).toEqual([
      'retry_skipped:Retry1:retry skipped: the bank wants the customer to authenticate (3-D Secure); waiting for the customer',
      'retry_skipped:Retry2:retry skipped: the bank wants the customer to authenticate (3-D Secure); waiting for the customer',
      'retry_skipped:Retry3:retry skipped: the bank wants the customer to authenticate (3-D Secure); waiting for the customer',
    ]);
    expect(timeline.filter((e) => e.type === 'card_blocked').map((e) => e.detail)).toEqual([`${card}: invoice_payment_intent_requires_action`]);
    expect(dunningCase).toMatchObject({ status: 'terminated', blockedPaymentMethod: { id: card, code: 'authentication_required' } });
    const actionRequired = emails.filter((m) => m.subject === SUBJECTS.actionRequired);
    expect(actionRequired).toHaveLength(1);
    expect(actionRequired[0]?.html).toContain(`href="${invoice.hosted_invoice_url}"`);
  });

  it('recovers when the customer confirms the payment on the invoice page', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Confirms 3DS', 'pm_card_authenticationRequired');
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      // What the hosted page does once the customer has authenticated: the payment goes through.
      if (state === 'Notice1' && !error) await t.stripe.invoices.pay(dunningCase.invoiceId, { payment_method: 'pm_card_visa' });
    });

    await renew(t.stripe, subscriber);
    const closed = await closedCase(t.runtime, subscriber.subscriptionId);
    // The card it saved may close the case first; invoice.paid then says how it was paid.
    const dunningCase = await waitFor(async () => {
      const c = await t.runtime.store.getCase(closed.invoiceId);
      return c?.recoveredBy !== 'invoice_paid' ? c : undefined;
    }, 5000, 'how it was paid');

    expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy: 'customer_payment' });
  });
});
