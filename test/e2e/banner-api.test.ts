// The My Account notice API as the site's backend sees it locally: a bearer token (standing in for
// AWS_IAM), exactly the banner's fields or 204, and cleared the moment the case recovers or closes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedCase, renew, startTestRuntime, subscribeWithDecliningCard, waitFor, type TestRuntime } from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ dayMs: 60_000 });
});
afterAll(async () => {
  await t?.close();
});

const bannerOf = (customerId: string, authorization?: string) =>
  fetch(`${t.runtime.urls.app}/customers/${customerId}/notice`, { headers: authorization ? { authorization } : {} });
const auth = () => `Bearer ${t.runtime.config.bannerToken}`;

async function dunnedCustomer(name: string) {
  const subscriber = await subscribeWithDecliningCard(t.stripe, name);
  await renew(t.stripe, subscriber);
  await waitFor(async () => (await bannerOf(subscriber.customerId, auth())).status === 200, 10_000, 'the banner');
  const dunningCase = (await t.runtime.store.listCases()).find((c) => c.subscriptionId === subscriber.subscriptionId)!;
  return { subscriber, dunningCase };
}

describe('GET /customers/{id}/notice', () => {
  it('answers 401 JSON without the bearer token, or with a wrong one', async () => {
    for (const header of [undefined, 'Bearer wrong-token', `Basic ${t.runtime.config.bannerToken}`, `Bearer ${t.runtime.config.bannerToken}x`]) {
      const response = await bannerOf('cus_Anyone', header);
      expect(response.status, String(header)).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toHaveProperty('error');
    }
  });

  it('answers 204 with no body for a customer with no notice', async () => {
    const response = await bannerOf('cus_NeverDunned', auth());

    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it('answers exactly { stage, severity, headline, body, action, terminatesAt } while the case is open', async () => {
    const { subscriber, dunningCase } = await dunnedCustomer('Banner Shape');

    const body = (await (await bannerOf(subscriber.customerId, auth())).json()) as Record<string, unknown>;

    expect(body).toEqual({
      stage: 'Notice1',
      severity: 'info',
      headline: "We haven't been able to take payment",
      body: 'You must update your payment details via My Account or by clicking update payment details to keep your subscription.',
      action: { label: 'Update payment details', url: expect.stringMatching(new RegExp(`^${t.runtime.urls.app}/u/[\\w-]+\\.[\\w-]+$`)) },
      terminatesAt: dunningCase.terminatesAt,
    });
  });

  it('is cleared the moment the case recovers', async () => {
    const { subscriber, dunningCase } = await dunnedCustomer('Banner Recovers');

    await t.stripe.invoices.pay(dunningCase.invoiceId, { payment_method: 'pm_card_visa' });
    await closedCase(t.runtime, subscriber.subscriptionId);

    expect((await bannerOf(subscriber.customerId, auth())).status).toBe(204);
  });

  it('is cleared the moment the case closes from outside', async () => {
    const { subscriber } = await dunnedCustomer('Banner Closes');

    await t.stripe.subscriptions.cancel(subscriber.subscriptionId);
    await closedCase(t.runtime, subscriber.subscriptionId);

    expect((await bannerOf(subscriber.customerId, auth())).status).toBe(204);
  });

  it('is not shown for a case closed while its banner was being written', async () => {
    const { subscriber, dunningCase } = await dunnedCustomer('Banner Race');
    // The close happened, but the banner write of a stage that was already running landed after it.
    const banner = (await t.runtime.store.getBanner(subscriber.customerId))!;
    await t.runtime.store.closeCase(dunningCase.invoiceId, 'closed', { now: new Date().toISOString(), reason: 'test' });
    await t.runtime.store.putBanner(banner);

    expect((await bannerOf(subscriber.customerId, auth())).status).toBe(204);
    // Skipped, not deleted: the banner API may only read the table (get-notice's role), so the
    // stale record stays until a closer or the customer's next banner replaces it.
    expect(await t.runtime.store.getBanner(subscriber.customerId)).toMatchObject({ invoiceId: dunningCase.invoiceId });
    expect(t.runtime.iamUsage.snapshot.denied['get-notice']).toBeUndefined();
  });
});
