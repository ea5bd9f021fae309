// Policies per plan: one state machine, the router choosing each case's policy from its plan, and
// alsoNotify, run end to end with the real handlers against dynalite, SES and the Stripe sandbox.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { alsoNotifyOnOpen } from '#shared/dunning/also-notify.ts';
import { addDays } from '#shared/domain/format.ts';
import { readSesInbox } from '#local/ses.ts';
import { annualPolicyFile, writePolicyFile } from '../fixtures/policies.ts';
import {
  closedCase,
  deliver,
  forgetProcessedEvents,
  latestEvent,
  renew,
  startTestRuntime,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  type TestRuntime,
} from '../fixtures/scenario.ts';
import { openCaseQuietly, realDeps } from '../fixtures/stage-deps.ts';
import { EmailThrottledError } from '#shared/domain/errors.ts';
import type { Mailer } from '#shared/domain/ports.ts';

const FINANCE = 'finance@acme.test';
// The merchant's own page, not the local runtime's (which the runtime would move to its own port).
const ANNUAL_MY_ACCOUNT = 'https://annual.acme.test/account';
const LINK = /https?:\/\/[^\s"<>]+\/u\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;

let t: TestRuntime;
beforeAll(async () => {
  // A short annual policy (two notices over four days, then leave the subscription unpaid) keeps
  // the test quick; the shipped 30-day one differs only in its days.
  const file = annualPolicyFile((f) => {
    f.policies.annual.stages = [
      { id: 'Notice1', type: 'notice', day: 0, notice: { message: 'payment_failed' } },
      { id: 'Retry1', type: 'retry', day: 2 },
      { id: 'Notice2', type: 'notice', day: 2, notice: { message: 'due_to_terminate' } },
      { id: 'Retry2', type: 'retry', day: 4 },
    ];
    f.policies.annual.end.day = 4;
    f.policies.annual.access.changes = [{ fromDay: 2, access: 'limited' }];
    f.policies.annual.brand.myAccountUrl = ANNUAL_MY_ACCOUNT;
  });
  const policyFile = writePolicyFile(file);
  t = await startTestRuntime({ policyFile, dayMs: 100 });
});
afterAll(async () => {
  await t?.close();
});

/** The subjects sent to `address`, once the termination email is among them. */
async function endedEmails(address: string): Promise<string[]> {
  return waitFor(async () => {
    const subjects = await subjectsTo(t.runtime, address);
    return subjects.includes(SUBJECTS.ended) && subjects;
  }, 10_000, `the termination email to ${address}`);
}

/** The inputs of the case's tasks, once its Terminate task has reported (just after its email). */
async function tasksOf(invoiceId: string): Promise<Array<Record<string, unknown>>> {
  return waitFor(async () => {
    const inputs = t.tasks.filter((task) => task.invoiceId === invoiceId).map((task) => task.input as Record<string, unknown>);
    return inputs.some((input) => input.action === 'terminate') && inputs;
  }, 10_000, `the Terminate task of ${invoiceId}`);
}

describe('policies per plan', () => {
  it('runs an annual-price subscription on the annual policy, to its end action leave_unpaid', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Annual Customer', undefined, { unitAmount: 150000, interval: 'year' });

    await renew(t.stripe, subscriber);
    const closed = await closedCase(t.runtime, subscriber.subscriptionId);

    expect(closed).toMatchObject({ status: 'terminated', policy: 'annual' });
    expect(closed.terminatesAt).toBe(addDays(closed.failedAt, 4));
    // The case is terminated a moment before its last email is sent.
    expect(await endedEmails(subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice3, SUBJECTS.ended]);
    // The annual states ran, each told its policy; none of the default's did.
    const ran = await tasksOf(closed.invoiceId);
    expect(ran.map((input) => input.stage ?? input.action)).toEqual(['Notice1', 'Retry1', 'Notice2', 'Retry2', 'terminate']);
    expect(ran.every((input) => input.policy === 'annual')).toBe(true);
    const timeline = await t.runtime.store.listTimeline(closed.invoiceId);
    expect(timeline.find((e) => e.type === 'end_action')?.detail).toMatch(/^leave_unpaid /);
    expect(timeline.find((e) => e.type === 'case_opened')?.detail).toMatch(/policy annual$/);
    // leave_unpaid leaves the subscription to Stripe's own settings: not canceled by us.
    expect((await t.stripe.subscriptions.retrieve(subscriber.subscriptionId)).status).toBe('past_due');
  });

  it('runs a monthly subscription on the default policy', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Monthly Customer');

    await renew(t.stripe, subscriber);
    const closed = await closedCase(t.runtime, subscriber.subscriptionId);

    expect(closed).toMatchObject({ status: 'terminated', policy: 'default' });
    expect(closed.terminatesAt).toBe(addDays(closed.failedAt, 14));
    expect(await endedEmails(subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
    expect((await t.stripe.subscriptions.retrieve(subscriber.subscriptionId)).status).toBe('canceled');
    const ran = await tasksOf(closed.invoiceId);
    expect(ran).toHaveLength(7);
    expect(ran.every((input) => input.policy === 'default')).toBe(true);
  });
});

describe("the case's policy after it opened", () => {
  it("renders its notices with the case's policy, and the card-update link returns to that policy's My Account", async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Annual Updater', undefined, { unitAmount: 15000, interval: 'year' });
    let returnedTo: string | null | undefined;
    let emailText = '';
    t.onStage(subscriber.customerId, async ({ state, dunningCase }) => {
      if (state !== 'Notice1' || returnedTo !== undefined) return;
      // Between Notice1 and the wait after it: the customer follows the email's link and saves a card.
      const email = await waitFor(async () => (await readSesInbox(t.runtime.urls.ses)).find((m) => m.to.includes(subscriber.email)), 5_000, 'notice 1');
      emailText = email.text ?? '';
      const portal = (await fetch(LINK.exec(emailText)![0], { redirect: 'manual' })).headers.get('location')!;
      const chosen = await fetch(portal, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'card=pm_card_visa' });
      returnedTo = chosen.headers.get('location');
      expect(dunningCase.policy).toBe('annual');
    });

    await renew(t.stripe, subscriber);
    const closed = await closedCase(t.runtime, subscriber.subscriptionId);

    expect(returnedTo).toBe(ANNUAL_MY_ACCOUNT);
    expect(emailText).toContain(ANNUAL_MY_ACCOUNT);
    expect(closed).toMatchObject({ status: 'recovered', recoveredBy: 'card_updated', policy: 'annual' });
  });
});

describe('alsoNotify', () => {
  it('emails the internal address once when a case opens above the threshold, and not for smaller ones', async () => {
    const big = await subscribeWithDecliningCard(t.stripe, 'Big Spender', undefined, { unitAmount: 120000 });
    const small = await subscribeWithDecliningCard(t.stripe, 'Small Spender', undefined, { unitAmount: 99999 });
    // The big case is held after Notice1 until the end of the test: at 100 ms a policy day, a slow
    // machine could otherwise end the whole policy before the redelivery, and a closed case claims nothing.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    onTestFinished(() => release());
    t.onStage(big.customerId, async ({ state }) => {
      if (state === 'Notice1') await held;
    });

    await Promise.all([renew(t.stripe, big), renew(t.stripe, small)]);
    const bigCase = await waitFor(async () => (await t.runtime.store.listCases()).find((c) => c.subscriptionId === big.subscriptionId && c.executionArn), 10_000, 'the case to open');
    await waitFor(async () => (await t.runtime.store.listCases()).find((c) => c.subscriptionId === small.subscriptionId && c.executionArn), 10_000, 'the case to open');

    // Stripe redelivers the failure (its dedupe record expired), and the claim is asked again directly.
    await forgetProcessedEvents(t.runtime);
    const again = await deliver(t.runtime, await latestEvent(t.stripe, 'invoice.payment_failed', bigCase.invoiceId));
    expect(again.status).toBe(200);
    await alsoNotifyOnOpen(realDeps(t), t.runtime.policies, bigCase);

    const internal = (await readSesInbox(t.runtime.urls.ses)).filter((m) => m.to.includes(FINANCE));
    const aboutBig = internal.filter((m) => m.text?.includes(bigCase.invoiceNumber ?? bigCase.invoiceId));
    expect(aboutBig).toHaveLength(1);
    expect(internal.filter((m) => m.subject.includes('Small Spender'))).toEqual([]);
    const [email] = aboutBig;
    expect(email!.subject).toBe(`Failed payment of £1,200.00: Big Spender, invoice ${bigCase.invoiceNumber}`);
    expect(email!.text).toContain(`https://dashboard.stripe.com/test/invoices/${bigCase.invoiceId}`);
    // Name, invoice and amount only: never the customer's address.
    expect(email!.text).not.toContain(big.email);
    expect(email!.html).not.toContain(big.email);
    const timeline = await t.runtime.store.listTimeline(bigCase.invoiceId);
    expect(timeline.filter((e) => e.type === 'also_notified')).toEqual([
      expect.objectContaining({ stage: 'AlsoNotify', detail: expect.not.stringContaining('@') }),
    ]);
  });

  it('gives the claim back when SES throttles, so the retry sends it, and then sends nothing more', async () => {
    const quiet = await openCaseQuietly(t, 'Throttled Finance');
    const large = { ...quiet, customerName: 'Throttled Finance', amountDue: { amount: 250000, currency: 'gbp' } };
    const throttled: Mailer = { send: () => Promise.reject(new EmailThrottledError('Maximum sending rate exceeded')) };
    const sentAbout = async () =>
      (await readSesInbox(t.runtime.urls.ses)).filter((m) => m.to.includes(FINANCE) && m.subject.includes('Throttled Finance'));

    await expect(alsoNotifyOnOpen(realDeps(t, { mailer: throttled }), t.runtime.policies, large)).rejects.toBeInstanceOf(EmailThrottledError);
    expect(await sentAbout()).toEqual([]);
    await alsoNotifyOnOpen(realDeps(t), t.runtime.policies, large);
    await alsoNotifyOnOpen(realDeps(t), t.runtime.policies, large);

    expect(await sentAbout()).toHaveLength(1);
  });
});
