// The local My Account page (`/account`) in real Chromium, as a customer in dunning reaches it: from
// the email's My Account link, pick the customer, see the banner the banner API answers, follow its
// update-payment link to the billing portal, choose a card, and land back on My Account with the
// banner gone. One screenshot per state, for the README (docs/screenshots/account-*.png).
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { readSesInbox } from '#local/ses.ts';
import { renew, startTestRuntime, subscribeWithDecliningCard, SUBJECTS, waitFor, type TestRuntime } from '../fixtures/scenario.ts';
import { describeInChromium, launchChromium, SCREENSHOTS } from '../fixtures/browser.ts';

let t: TestRuntime;
let browser: Browser;
beforeAll(async () => {
  // Days of a minute: the case waits at its first notice while the customer clicks through.
  [t, browser] = await Promise.all([startTestRuntime({ dayMs: 60_000 }), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describeInChromium('the local My Account page', () => {
  it("shows a customer in dunning their banner, whose update link opens the portal and returns to My Account, and the banner goes", async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Ada Account');
    await renew(t.stripe, subscriber);
    const email = await waitFor(
      async () => (await readSesInbox(t.runtime.urls.ses)).find((m) => m.to.includes(subscriber.email) && m.subject === SUBJECTS.notice1),
      15_000,
      'notice 1',
    );
    const myAccountLink = /<a href="([^"]+)"[^>]*>My Account<\/a>/.exec(email.html ?? '')?.[1];
    const api = (await (
      await fetch(`${t.runtime.urls.app}/customers/${subscriber.customerId}/notice`, { headers: { authorization: `Bearer ${t.runtime.config.bannerToken}` } })
    ).json()) as { headline: string; body: string; action: { label: string; url: string } };
    const page = await browser.newPage({ viewport: { width: 820, height: 560 } });

    // The email's link, then the picker, as a customer signing in would.
    const opened = await page.goto(myAccountLink!);
    expect(opened?.status()).toBe(200);
    await page.click(`a[href="/account?customer=${subscriber.customerId}"]`);
    await page.waitForSelector('#banner[data-state="shown"]');
    const shown = {
      headline: await page.textContent('.dunning-banner__headline'),
      body: await page.textContent('.dunning-banner__body'),
      button: await page.textContent('.dunning-banner__action'),
      href: await page.getAttribute('.dunning-banner__action', 'href'),
    };
    await page.screenshot({ path: join(SCREENSHOTS, 'account-Notice1.png'), fullPage: true });

    expect(shown).toEqual({ headline: api.headline, body: api.body, button: api.action.label, href: api.action.url });
    expect(shown.href).toMatch(new RegExp(`^${t.runtime.urls.app}/u/`));

    // The update link works: the billing portal, and back to My Account once a card is chosen.
    await page.click('.dunning-banner__action');
    await page.waitForURL(new RegExp(`^${t.runtime.urls.stripe}/p/session/bps_`));
    await expect.poll(() => page.locator('h1').textContent()).toBe('Update your payment method');
    await Promise.all([page.waitForURL((url) => url.href.startsWith(t.runtime.urls.account)), page.click('button[value="pm_card_visa"]')]);
    expect(await page.locator('h1').textContent()).toContain('My Account');

    await waitFor(
      async () => (await t.runtime.store.listCases()).find((c) => c.subscriptionId === subscriber.subscriptionId && c.status === 'recovered'),
      15_000,
      'the case to recover',
    );
    await page.goto(`${t.runtime.urls.account}?customer=${subscriber.customerId}`);
    await page.waitForSelector('#banner[data-state="empty"]', { state: 'attached' });
    expect(await page.isVisible('#no-banner')).toBe(true);
    expect(await page.locator('.dunning-banner').count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'account-recovered.png'), fullPage: true });
    await page.close();
  });
});
