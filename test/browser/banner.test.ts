// The My Account banner examples (examples/banner: banner.js and the React <DunningBanner>) in real
// Chromium, against the local runtime through an example site's backend: one screenshot per stage,
// escalating, then nothing once the case has ended.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startExampleSite, type ExampleSite } from '../../examples/banner/site.ts';
import type { DunningCase } from '#shared/domain/case.ts';
import { renderNotice, type RenderedNotice } from '#shared/notices/render.ts';
import type { NoticeSpec } from '#shared/policy/schema.ts';
import {
  closedCase,
  deliver,
  latestEvent,
  renew,
  startTestRuntime,
  subscribeWithDecliningCard,
  withDeliveriesPaused,
  type TestRuntime,
} from '../fixtures/scenario.ts';
import { describeInChromium, launchChromium, SCREENSHOTS } from '../fixtures/browser.ts';
import { openCaseQuietly } from '../fixtures/stage-deps.ts';

let t: TestRuntime;
let browser: Browser;
let site: ExampleSite;
beforeAll(async () => {
  [t, browser] = await Promise.all([startTestRuntime({ dayMs: 100 }), launchChromium()]);
  site = await startExampleSite({ noticeApiUrl: t.runtime.urls.app, bearerToken: t.runtime.config.bannerToken });
});
afterAll(async () => {
  await site?.close();
  await browser?.close();
  await t?.close();
});

interface Seen {
  stage: string;
  api: Record<string, unknown>;
  script: { headline: string; body: string; button: string; href: string; className: string };
  react: { headline: string; body: string; button: string; href: string; className: string };
}

/** Opens the example account page, waits for both banners, reads what they show, and screenshots it. */
async function lookAtBanners(customerId: string, shot: string): Promise<Omit<Seen, 'stage' | 'api'>> {
  const page = await browser.newPage({ viewport: { width: 820, height: 520 } });
  try {
    await page.goto(`${site.url}/account?customer=${customerId}`);
    await page.waitForSelector('#script-banner[data-state="shown"]');
    await page.waitForSelector('#react-banner [data-state="shown"]');
    const read = (root: string) =>
      page.$eval(root, (el) => ({
        headline: el.querySelector('.dunning-banner__headline')?.textContent ?? '',
        body: el.querySelector('.dunning-banner__body')?.textContent ?? '',
        button: el.querySelector('.dunning-banner__action')?.textContent ?? '',
        href: el.querySelector('.dunning-banner__action')?.getAttribute('href') ?? '',
        className: el.querySelector('.dunning-banner')?.className ?? '',
      }));
    const seen = { script: await read('#script-banner'), react: await read('#react-banner') };
    await page.screenshot({ path: join(SCREENSHOTS, `banner-${shot}.png`), fullPage: true });
    return seen;
  } finally {
    await page.close();
  }
}

async function noticeApi(customerId: string): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const response = await fetch(`${t.runtime.urls.app}/customers/${customerId}/notice`, {
    headers: { authorization: `Bearer ${t.runtime.config.bannerToken}` },
  });
  return { status: response.status, body: response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined };
}

/** What the policy's notice says to this case (catalog copy, rendered like the stage renders it). */
const rendered = (notice: NoticeSpec, dunningCase: DunningCase): RenderedNotice =>
  renderNotice(notice, { policy: t.runtime.policy, dunningCase });
const copyOf = (stage: string, dunningCase: DunningCase): RenderedNotice => {
  const found = t.runtime.policy.stages.find((s) => s.id === stage);
  if (found?.type !== 'notice') throw new Error(`no notice stage ${stage}`);
  return rendered(found.notice, dunningCase);
};

describeInChromium('the banner examples in Chromium', () => {
  it('show each notice stage with escalating severity, then an empty state once the case has ended', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Banner Watcher');
    const seen: Seen[] = [];
    const failures: unknown[] = [];
    // Runs between stages, while the execution waits: the banner is exactly the stage's.
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (error || !/^Notice\d$/.test(state)) return;
      try {
        const api = (await noticeApi(subscriber.customerId)).body!;
        seen.push({ stage: state, api, ...(await lookAtBanners(subscriber.customerId, state)) });
      } catch (err) {
        failures.push(err);
      }
    });

    await renew(t.stripe, subscriber);
    const ended = await closedCase(t.runtime, subscriber.subscriptionId, 30_000);

    expect(failures).toEqual([]);
    expect(ended.status).toBe('terminated');
    expect(seen.map((s) => s.stage)).toEqual(['Notice1', 'Notice2', 'Notice3']);
    expect(seen.map((s) => s.api.severity)).toEqual(['info', 'warning', 'critical']);
    for (const { stage, api, script, react } of seen) {
      expect(Object.keys(api).sort(), stage).toEqual(['action', 'body', 'headline', 'severity', 'stage', 'terminatesAt']);
      expect(api.stage).toBe(stage);
      for (const shown of [script, react]) {
        expect(shown.headline, stage).toBe(copyOf(stage, ended).banner?.headline);
        expect(shown.headline, stage).toBe(api.headline);
        expect(shown.body, stage).toBe(api.body);
        expect(shown.button, stage).toBe(copyOf(stage, ended).action?.label);
        expect(shown.href, stage).toMatch(new RegExp(`^${t.runtime.urls.app}/u/`));
        expect(shown.className, stage).toBe(`dunning-banner dunning-banner--${api.severity}`);
      }
    }
    // Terminated: the API answers 204 and both examples show nothing.
    expect((await noticeApi(subscriber.customerId)).status).toBe(204);
    const page = await browser.newPage({ viewport: { width: 820, height: 320 } });
    await page.goto(`${site.url}/account?customer=${subscriber.customerId}`);
    await page.waitForSelector('#script-banner[data-state="empty"]', { state: 'attached' });
    await page.waitForSelector('#react-banner [data-state="empty"]', { state: 'attached' });
    expect(await page.locator('.dunning-banner').count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'banner-empty.png'), fullPage: true });
    await page.close();
  });

  it('show "action required" with the invoice page as the button when the bank wants a confirmation', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Bank Confirms', 'pm_card_authenticationRequired');
    const invoiceId = await withDeliveriesPaused(t.runtime, async () => {
      await renew(t.stripe, subscriber);
      return (await t.stripe.invoices.list({ subscription: subscriber.subscriptionId, status: 'open' })).data[0]!.id!;
    });
    const invoice = await t.stripe.invoices.retrieve(invoiceId);
    let seen: (Omit<Seen, 'stage'>) | undefined;
    const failures: unknown[] = [];
    // After Notice1 (the execution waits), the bank's request arrives and replaces the banner.
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (error || state !== 'Notice1' || seen) return;
      try {
        await deliver(t.runtime, await latestEvent(t.stripe, 'invoice.payment_action_required', invoiceId));
        const api = (await noticeApi(subscriber.customerId)).body!;
        seen = { api, ...(await lookAtBanners(subscriber.customerId, 'ActionRequired')) };
      } catch (err) {
        failures.push(err);
      }
    });

    await deliver(t.runtime, await latestEvent(t.stripe, 'invoice.payment_failed', invoiceId));
    await closedCase(t.runtime, subscriber.subscriptionId, 30_000);

    expect(failures).toEqual([]);
    expect(seen?.api).toMatchObject({ stage: 'ActionRequired', severity: 'warning', action: { url: invoice.hosted_invoice_url } });
    for (const shown of [seen!.script, seen!.react]) {
      expect(shown.headline).toBe(rendered(t.runtime.policy.actionRequired.notice, (await t.runtime.store.getCase(invoiceId))!).banner?.headline);
      expect(shown.button).toBe(rendered(t.runtime.policy.actionRequired.notice, (await t.runtime.store.getCase(invoiceId))!).action?.label);
      expect(shown.href).toBe(invoice.hosted_invoice_url);
      expect(shown.className).toBe('dunning-banner dunning-banner--warning');
    }
  });

  it('render hostile text as text, and drop a button that is not an http(s) link', async () => {
    const dunningCase = await openCaseQuietly(t, 'Hostile Copy');
    const hostile = '<img src=x onerror="window.pwned=1">Pay <b>now</b>';
    await t.runtime.store.putBanner({
      customerId: dunningCase.customerId,
      invoiceId: dunningCase.invoiceId,
      stage: 'Notice1',
      severity: 'info',
      headline: hostile,
      body: hostile,
      action: { label: 'Click', url: 'javascript:window.pwned=1' },
      terminatesAt: dunningCase.terminatesAt,
      createdAt: new Date().toISOString(),
    });
    const page = await browser.newPage();

    await page.goto(`${site.url}/account?customer=${dunningCase.customerId}`);
    await page.waitForSelector('#script-banner[data-state="shown"]');
    await page.waitForSelector('#react-banner [data-state="shown"]');

    expect(await page.locator('.dunning-banner__headline').allTextContents()).toEqual([hostile, hostile]);
    expect(await page.locator('.dunning-banner img, .dunning-banner b').count()).toBe(0);
    expect(await page.locator('.dunning-banner__action').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    await page.close();
  });
});
