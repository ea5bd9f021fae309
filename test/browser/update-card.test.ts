// The whole one-click path in a real browser: the customer opens the link from their notice email,
// lands on the (sandbox) Stripe portal, chooses a working card, and their case recovers at once.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { readSesInbox } from '#local/ses.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import { renew, startTestRuntime, subjectsTo, subscribeWithDecliningCard, SUBJECTS, waitFor, type TestRuntime } from '../fixtures/scenario.ts';
import { writePolicyFile } from '../fixtures/policies.ts';
import { describeInChromium, launchChromium, SCREENSHOTS } from '../fixtures/browser.ts';

let t: TestRuntime;
let browser: Browser;
let myAccount: { url: string; close(): Promise<void> };
beforeAll(async () => {
  // My Account is the company's own site: a real page on a free port, named in the policy, so the
  // portal's redirect after the card is saved lands somewhere real.
  myAccount = await startMyAccountStandIn();
  const policy = loadPolicyFile();
  const policyFile = writePolicyFile({ ...policy, brand: { ...policy.brand, myAccountUrl: myAccount.url } });
  // Days of a minute: nothing but the customer's click can recover the case during the test.
  [t, browser] = await Promise.all([startTestRuntime({ dayMs: 60_000, policyFile }), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await myAccount?.close();
});

async function startMyAccountStandIn(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>My Account</h1>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/account`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describeInChromium('"Update payment details" in the notice email', () => {
  it('opens the portal in one click, and the card chosen there recovers the case', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Clicks The Link');
    await renew(t.stripe, subscriber);
    const notice = await waitFor(
      async () => (await readSesInbox(t.runtime.urls.ses)).find((m) => m.to.includes(subscriber.email) && m.subject === SUBJECTS.notice1),
      10_000,
      'notice 1 in the SES inbox',
    );
    const link = /href="([^"]+\/u\/[^"]+)"/.exec(notice.html ?? '')?.[1];
    expect(link, 'the update link in the HTML email').toBeTruthy();

    const context = await browser.newContext();
    const page = await context.newPage();
    const isMyAccount = (url: URL) => url.href.startsWith(myAccount.url);

    await page.goto(link!);
    expect(page.url()).toMatch(new RegExp(`^${t.runtime.urls.stripe}/p/session/bps_`));
    await expect.poll(() => page.locator('h1').textContent()).toBe('Update your payment method');
    await page.screenshot({ path: join(SCREENSHOTS, 'portal-update-card.png'), fullPage: true });

    await Promise.all([page.waitForURL(isMyAccount), page.click('button[value="pm_card_visa"]')]);
    expect(await page.locator('h1').textContent()).toBe('My Account');

    const recovered = await waitFor(async () => {
      const c = (await t.runtime.store.listCases()).find((x) => x.subscriptionId === subscriber.subscriptionId);
      return c?.status === 'recovered' ? c : undefined;
    }, 15_000, 'the case to recover');
    expect(recovered.recoveredBy).toBe('card_updated');
    await waitFor(async () => (await subjectsTo(t.runtime, subscriber.email)).includes(SUBJECTS.recovered), 10_000, 'the thank-you email');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);

    // The same link, opened again, now says thanks instead of opening the portal.
    await page.goto(link!);
    expect(await page.locator('#title').textContent()).toBe("Thank you, it's already sorted");
    await page.screenshot({ path: join(SCREENSHOTS, 'link-already-paid.png'), fullPage: true });
    await context.close();
  });
});
