// The one-click "update payment details" link, GET /u/{token}, against the running local product:
// what the email carries, where the link goes, and every way it refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent } from 'aws-lambda';
import { readSesInbox } from '#local/ses.ts';
import { createHandler } from '#functions/open-payment-link/handler.ts';
import { signLinkToken } from '#shared/links/token.ts';
import type { DunningCase } from '#shared/domain/case.ts';
import {
  closedCase,
  renew,
  startTestRuntime,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  type Subscriber,
  type TestRuntime,
} from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  // Days of a minute: each case stays at its first notice for the whole test.
  t = await startTestRuntime({ dayMs: 60_000 });
});
afterAll(async () => {
  await t?.close();
});

const LINK = /https?:\/\/[^\s"<>]+\/u\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;

interface Dunned {
  subscriber: Subscriber;
  dunningCase: DunningCase;
  link: string;
  email: { text?: string; html?: string };
}

/** A renewal that failed, and the update link from its first notice as the customer got it. */
async function dunned(name: string): Promise<Dunned> {
  const subscriber = await subscribeWithDecliningCard(t.stripe, name);
  await renew(t.stripe, subscriber);
  const email = await waitFor(async () => (await readSesInbox(t.runtime.urls.ses)).find((m) => m.to.includes(subscriber.email) && m.subject === SUBJECTS.notice1), 10_000, 'notice 1');
  const dunningCase = (await t.runtime.store.listCases()).find((c) => c.subscriptionId === subscriber.subscriptionId)!;
  const link = LINK.exec(email.text ?? '')?.[0];
  if (!link) throw new Error(`no update link in the email:\n${email.text}`);
  return { subscriber, dunningCase, link, email };
}

const open = (url: string) => fetch(url, { redirect: 'manual' });

describe('the notice email', () => {
  it('carries our own short link, in the text and the HTML, and never a billing portal session', async () => {
    const { link, email } = await dunned('Email Link');

    expect(link.startsWith(`${t.runtime.urls.app}/u/`)).toBe(true);
    expect(email.html).toContain(`href="${link}"`);
    expect(`${email.text}${email.html}`).not.toContain('/p/session/');
  });
});

describe('GET /u/{token}', () => {
  it("answers 302 to a fresh billing portal session for the case's customer, each time it is opened", async () => {
    const { link } = await dunned('Fresh Session');

    const first = await open(link);
    const second = await open(link);

    expect(first.status).toBe(302);
    const location = first.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^${t.runtime.urls.stripe}/p/session/bps_`));
    expect(second.headers.get('location')).toMatch(/\/p\/session\/bps_/);
    expect(second.headers.get('location')).not.toBe(location);
    expect(first.headers.get('cache-control')).toBe('no-store');
  });

  it('opens the payment-method-update flow, which returns to My Account once a card is chosen', async () => {
    const { link, subscriber } = await dunned('Flow Return');
    const portal = (await open(link)).headers.get('location')!;

    const page = await (await fetch(portal)).text();
    expect(page).toContain('Update your payment method');
    const chosen = await fetch(portal, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'card=pm_card_visa',
    });

    expect(chosen.status).toBe(303);
    expect(chosen.headers.get('location')).toBe(t.runtime.policy.brand.myAccountUrl);
    // The new card charges the case at once, through the card-update webhooks.
    const closed = await closedCase(t.runtime, subscriber.subscriptionId, 15_000);
    expect(closed).toMatchObject({ status: 'recovered', recoveredBy: 'card_updated' });
  });

  it('thanks the customer, without opening the portal, once the case has recovered', async () => {
    const { link, dunningCase, subscriber } = await dunned('Already Paid');
    await t.stripe.invoices.pay(dunningCase.invoiceId, { payment_method: 'pm_card_visa' });
    await closedCase(t.runtime, subscriber.subscriptionId);

    const response = await open(link);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('already sorted');
  });

  it('points to My Account, without opening the portal, once the case has closed from outside', async () => {
    const { link, subscriber } = await dunned('Closed Outside');
    await t.stripe.subscriptions.cancel(subscriber.subscriptionId);
    await closedCase(t.runtime, subscriber.subscriptionId);

    const response = await open(link);

    expect(response.status).toBe(410);
    expect(response.headers.get('location')).toBeNull();
    const html = await response.text();
    expect(html).toContain('no longer needed');
    expect(html).toContain(`href="${t.runtime.policy.brand.myAccountUrl}"`);
  });

  it('refuses a tampered token with a friendly page and no stack trace', async () => {
    const { link } = await dunned('Tampered Link');
    // A character in the middle of the signature: every bit of it counts.
    const at = link.length - 10;
    const tampered = link.slice(0, at) + (link[at] === 'A' ? 'B' : 'A') + link.slice(at + 1);

    const response = await open(tampered);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toContain("This link doesn&#39;t work");
    expect(html).not.toMatch(/Error|at .*\.ts|stack/);
  });

  it('refuses an expired token', async () => {
    const { dunningCase } = await dunned('Expired Link');
    const token = signLinkToken(
      { customerId: dunningCase.customerId, invoiceId: dunningCase.invoiceId, expiresAt: Math.floor(Date.now() / 1000) - 1 },
      t.runtime.config.linkSigningKey,
    );

    const response = await open(`${t.runtime.urls.app}/u/${token}`);

    expect(response.status).toBe(410);
    expect(await response.text()).toContain('This link has expired');
  });

  it("never opens another customer's portal: a token naming a case that is not its customer's is refused", async () => {
    const victim = await dunned('Victim Case');
    const other = await dunned('Other Customer');
    const crossed = signLinkToken(
      { customerId: other.dunningCase.customerId, invoiceId: victim.dunningCase.invoiceId, expiresAt: Math.floor(Date.now() / 1000) + 3600 },
      t.runtime.config.linkSigningKey,
    );

    const response = await open(`${t.runtime.urls.app}/u/${crossed}`);

    expect(response.status).toBe(404);
    expect(response.headers.get('location')).toBeNull();
  });

  it('refuses garbage paths and methods with the same friendly page', async () => {
    for (const path of ['/u/', '/u/not-a-token', '/u/a.b', `/u/${'x'.repeat(600)}`]) {
      const response = await open(`${t.runtime.urls.app}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
    }
  });

  it('is rate-limited per token: the 11th open within 10 minutes gets 429, another token is unaffected', async () => {
    const { link } = await dunned('Hammered Link');
    const { link: otherLink } = await dunned('Quiet Link');

    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await open(link)).status);
    const limited = await open(link);

    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(302));
    expect(statuses[10]).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('600');
    expect(await limited.text()).toContain('Please wait a few minutes');
    expect((await open(otherLink)).status).toBe(302);
  });
});

describe('the open-payment-link handler', () => {
  const event = (path: string) =>
    ({ rawPath: path, requestContext: { http: { method: 'GET' } } }) as unknown as LambdaFunctionURLEvent;

  it('answers a calm 503 page, not an error, when Stripe or the table fails', async () => {
    const handler = createHandler(async () => ({
      store: { getCase: () => Promise.reject(new Error('DynamoDB unavailable')) } as never,
      stripe: {} as never,
      limiter: { take: async () => true },
      signingKey: t.runtime.config.linkSigningKey,
      myAccountUrl: 'https://acme.test/account',
      brandName: 'Acme',
      clock: { now: () => new Date() },
      log: { debug() {}, info() {}, warn() {}, error() {} },
    }));
    const token = signLinkToken({ customerId: 'cus_1', invoiceId: 'in_1', expiresAt: Math.floor(Date.now() / 1000) + 60 }, t.runtime.config.linkSigningKey);

    const response = (await handler(event(`/u/${token}`))) as APIGatewayProxyStructuredResultV2;

    expect(response.statusCode).toBe(503);
    expect(response.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).not.toContain('DynamoDB unavailable');
    expect(response.body).toContain('https://acme.test/account');
  });
});
