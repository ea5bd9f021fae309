// The local console (`GET /console`) in real Chromium while a case plays out: the case appears, its
// timeline grows stage by stage without a reload, the banner and the email links follow, and the
// customer's name (Stripe data) is shown as text, never run as markup.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { readSesInbox } from '#local/ses.ts';
import {
  caseFor,
  putInWorkingCard,
  renew,
  startTestRuntime,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  type TestRuntime,
} from '../fixtures/scenario.ts';
import { describeInChromium, launchChromium, SCREENSHOTS } from '../fixtures/browser.ts';

let t: TestRuntime;
let browser: Browser;
let page: Page;
beforeAll(async () => {
  [t, browser] = await Promise.all([startTestRuntime({ dayMs: 500 }), launchChromium()]);
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const rowsOf = (invoiceId: string) =>
  page.$$eval(`section[data-invoice="${invoiceId}"] tbody tr`, (rows) => rows.map((r) => r.getAttribute('data-type')));

describeInChromium('the local console', () => {
  it('shows a case, its timeline, banner and emails, and follows it as it progresses', async () => {
    let alerted = false;
    page.on('dialog', (dialog) => {
      alerted = true;
      void dialog.dismiss();
    });
    await page.goto(`${t.runtime.urls.console}`);
    await page.waitForSelector('#summary:text("0 case(s)")');

    const name = 'Con <img src=x onerror=alert(1)> Sole';
    const subscriber = await subscribeWithDecliningCard(t.stripe, name);
    await renew(t.stripe, subscriber);
    const { invoiceId } = await waitFor(() => caseFor(t.runtime, subscriber.subscriptionId), 10_000, 'the case');

    // Appears without a reload, with the first notice, its banner and a link to the email.
    const section = `section[data-invoice="${invoiceId}"]`;
    await page.waitForSelector(`${section} tr[data-type="notice_sent"]`, { timeout: 10_000 });
    await page.waitForSelector(`${section} .banner[data-banner="Notice1"]`);
    expect(await page.textContent(`${section} h2`)).toContain(name);
    expect(await page.$(`${section} h2 img`)).toBeNull();
    expect(await rowsOf(invoiceId)).toEqual(expect.arrayContaining(['event_received', 'case_opened', 'execution_started', 'notice_sent']));
    const [email] = (await readSesInbox(t.runtime.urls.ses)).filter((m) => m.to.includes(subscriber.email));
    const href = await page.getAttribute(`${section} a[data-email="${email!.messageId}"]`, 'href');
    // The link opens the email as the customer sees it, under its subject, with its text part a click away.
    const emailPage = await browser.newPage({ viewport: { width: 800, height: 900 } });
    await emailPage.goto(href!);
    expect(await emailPage.textContent('#email-subject')).toBe(SUBJECTS.notice1);
    expect(await emailPage.getAttribute('a:text-is("My Account")', 'href')).toBe(t.runtime.urls.account);
    expect(await emailPage.$('body img[src="x"]')).toBeNull();
    await emailPage.screenshot({ path: join(SCREENSHOTS, 'console-email-notice1.png'), fullPage: true });
    await emailPage.click('#text-part');
    expect(emailPage.url()).toBe(`${href}/text`);
    expect(await emailPage.textContent('body')).toContain(email!.text!.trim());
    await emailPage.close();
    await page.screenshot({ path: join(SCREENSHOTS, 'console-notice1.png'), fullPage: true });

    // Day 3: Retry1 declines and Notice2 goes out; the page follows by itself.
    await page.waitForSelector(`${section} tr[data-type="retry_declined"]`, { timeout: 15_000 });
    await page.waitForSelector(`${section} .banner[data-banner="Notice2"]`, { timeout: 15_000 });
    expect(await page.textContent(`${section} .status`)).toBe('open');
    // The open-cases gauge's count, as the dashboard would graph it: one open case, at Notice2.
    await page.waitForSelector('#open-by-stage:text("Open now by stage: Notice2 1")', { timeout: 5_000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'console-notice2.png'), fullPage: true });

    // A new card: recovered, thanked, the banner gone.
    await putInWorkingCard(t.stripe, subscriber.customerId);
    await page.waitForSelector(`${section}[data-status="recovered"]`, { timeout: 15_000 });
    await page.waitForSelector(`${section} .banner[data-banner=""]`);
    await page.waitForSelector(`${section} tr[data-type="recovered"]`);
    expect(await page.textContent('#summary')).toBe('1 case(s), 0 open');
    expect(await page.textContent('#open-by-stage')).toBe('');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-recovered.png'), fullPage: true });
    expect(alerted).toBe(false);
  });
});
