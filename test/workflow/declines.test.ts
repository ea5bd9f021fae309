// Declines a retry cannot fix: a hard decline (lost, stolen, fraudulent card…) or a card that needs
// the customer's authentication is not charged again; a new card is charged at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closedCase,
  putInWorkingCard,
  renew,
  startTestRuntime,
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

const steps = async (invoiceId: string) =>
  (await t.runtime.store.listTimeline(invoiceId))
    .filter((e) => e.type.startsWith('retry_'))
    .map((e) => `${e.type}:${e.stage}:${e.detail}`);

describe('a card that hard-declines', () => {
  it.each([
    ['pm_card_chargeDeclinedLostCard', 'lost_card'],
    ['pm_card_chargeDeclinedStolenCard', 'stolen_card'],
    ['pm_card_chargeDeclinedFraudulent', 'fraudulent'],
  ])('is charged once by us (%s), then never again while the customer keeps it', async (token, code) => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, `Hard ${code}`, token);

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    await t.runtime.stepFunctions.idle();
    const invoice = await t.stripe.invoices.retrieve(dunningCase.invoiceId);

    expect(await steps(dunningCase.invoiceId)).toEqual([
      `retry_declined:Retry1:${code}`,
      `retry_skipped:Retry2:same card, ${code}`,
      `retry_skipped:Retry3:same card, ${code}`,
    ]);
    // The renewal's own attempt and our one retry: nothing blind after that.
    expect(invoice.attempt_count).toBe(2);
    expect(dunningCase.status).toBe('terminated');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
  });

  it('is replaced by a new card, which is charged at once and recovers the case', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Hard Then New', 'pm_card_chargeDeclinedStolenCard');
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice2' && !error) await putInWorkingCard(t.stripe, subscriber.customerId);
    });

    await renew(t.stripe, subscriber);
    const dunningCase = await closedCase(t.runtime, subscriber.subscriptionId);
    const sent = await waitFor(async () => {
      const subjects = await subjectsTo(t.runtime, subscriber.email);
      return subjects.includes(SUBJECTS.recovered) ? subjects : undefined;
    }, 5000, 'the confirmation');

    expect(dunningCase).toMatchObject({ status: 'recovered', recoveredBy: 'card_updated' });
    expect(await steps(dunningCase.invoiceId)).toEqual(['retry_declined:Retry1:stolen_card', 'retry_paid:CardUpdated:payment_method.attached']);
    expect(sent).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.recovered]);
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
      'retry_skipped:Retry1:same card, authentication_required',
      'retry_skipped:Retry2:same card, authentication_required',
      'retry_skipped:Retry3:same card, authentication_required',
    ]);
    expect(invoice.attempt_count).toBe(1);
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
