// The pages a newcomer opens in the first hour of `npm start`, on a runtime at a port other than the
// default (as DUNNING_PORT or a test's free port puts it): every "My Account" link the product hands
// a customer leads to the local My Account page, the console opens each email as the customer sees
// it, and the banner example finds the runtime by DUNNING_PORT and says why a banner fetch failed.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSesInbox, type InboxEmail } from '#local/ses.ts';
import { DEFAULT_LOCAL_PORT } from '#local/config.ts';
import type { ConsoleData } from '#local/console.ts';
import { freePort } from '../fixtures/process.ts';
import { renew, startTestRuntime, subscribeWithDecliningCard, SUBJECTS, waitFor, type Subscriber, type TestRuntime } from '../fixtures/scenario.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let t: TestRuntime;
let dunned: { subscriber: Subscriber; email: InboxEmail };
beforeAll(async () => {
  // Days of a minute: the case stays at its first notice, with its banner, for the whole file.
  t = await startTestRuntime({ dayMs: 60_000 });
  const subscriber = await subscribeWithDecliningCard(t.stripe, 'Front Door');
  await renew(t.stripe, subscriber);
  const email = await waitFor(
    async () => (await readSesInbox(t.runtime.urls.ses)).find((m) => m.to.includes(subscriber.email) && m.subject === SUBJECTS.notice1),
    15_000,
    'notice 1',
  );
  dunned = { subscriber, email };
});
afterAll(async () => {
  await t?.close();
});

const MY_ACCOUNT_LINK = /<a href="([^"]+)"[^>]*>My Account<\/a>/g;

describe('the My Account links, on a runtime at a port other than the default', () => {
  it("lead from each email's My Account link to the local My Account page", async () => {
    expect(new URL(t.runtime.urls.app).port).not.toBe(String(DEFAULT_LOCAL_PORT));
    const links = [...dunned.email.html!.matchAll(MY_ACCOUNT_LINK)].map((m) => m[1]!.replace(/&amp;/g, '&'));

    const pages = await Promise.all(links.map((link) => fetch(link)));

    expect(links.length).toBeGreaterThan(0);
    expect(new Set(links)).toEqual(new Set([t.runtime.urls.account]));
    expect(dunned.email.text).toContain(`My Account (${t.runtime.urls.account})`);
    for (const page of pages) {
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toContain('<h1>My Account');
    }
  });

  it('lead from the "Go to My Account" button of a /u/ page there too', async () => {
    const refused = await fetch(`${t.runtime.urls.app}/u/not-a-token`);
    const button = /id="my-account" href="([^"]+)"/.exec(await refused.text())?.[1];

    const page = await fetch(button!);

    expect(refused.status).toBe(404);
    expect(button).toBe(t.runtime.urls.account);
    expect(page.status).toBe(200);
  });
});

describe('the local My Account page', () => {
  it('lists the customers with a case when none is named, each linking to their own page', async () => {
    const html = await (await fetch(t.runtime.urls.account)).text();

    expect(html).toContain(`href="/account?customer=${dunned.subscriber.customerId}"`);
    expect(html).toContain('Front Door');
  });

  it("serves the banner API's answer for the customer to banner.js, and 204 for a customer with none", async () => {
    const api = await fetch(`${t.runtime.urls.app}/customers/${dunned.subscriber.customerId}/notice`, {
      headers: { authorization: `Bearer ${t.runtime.config.bannerToken}` },
    });
    const forwarded = await fetch(`${t.runtime.urls.account}/notice?customer=${dunned.subscriber.customerId}`);
    const nobody = await fetch(`${t.runtime.urls.account}/notice?customer=cus_Nobody`);
    const page = await (await fetch(`${t.runtime.urls.account}?customer=${dunned.subscriber.customerId}`)).text();

    expect(forwarded.status).toBe(200);
    expect(await forwarded.json()).toEqual(await api.json());
    expect(nobody.status).toBe(204);
    expect(page).toContain(`data-endpoint="/account/notice?customer=${dunned.subscriber.customerId}"`);
    expect(page).toContain('src="/account/banner.js"');
  });
});

describe("the console's email link", () => {
  it('opens the HTML part as a page, under its subject, with a link to the text part', async () => {
    const data = (await (await fetch(`${t.runtime.urls.console}/data`)).json()) as ConsoleData;
    const row = data.cases.find((c) => c.case.customerId === dunned.subscriber.customerId)!;
    const link = row.emails.find((e) => e.messageId === dunned.email.messageId)!.url;

    const page = await fetch(link);
    const html = await page.text();
    const textHref = /id="text-part" href="([^"]+)"/.exec(html)?.[1];
    const text = await fetch(new URL(textHref!, link));

    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain(`<strong id="email-subject">${SUBJECTS.notice1.replace("'", '&#39;')}</strong>`);
    // The customer's HTML part, whole, under the bar: what they would see, with its own links.
    const opening = /^[\s\S]*?<body[^>]*>/i.exec(dunned.email.html!)![0];
    expect(html.startsWith(opening)).toBe(true);
    expect(html.endsWith(dunned.email.html!.slice(opening.length))).toBe(true);
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await text.text()).toBe(dunned.email.text);
  });
});

/** Runs examples/banner/site.ts as its README line says, with `env`; resolves once it prints its URL. */
async function startExampleSite(env: Record<string, string>) {
  const { DUNNING_NOTICE_API_URL: _override, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/banner/site.ts'], {
    cwd: ROOT,
    env: { ...inherited, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await waitFor(async () => /My Account example: (http:\/\/\S+)\/account/.exec(output)?.[1], 30_000, `the example site to start:\n${output}`);
  return { url, output: () => output, stop: () => child.kill('SIGKILL') };
}

describe('the banner example site', () => {
  it('finds the runtime by DUNNING_PORT', async () => {
    const site = await startExampleSite({ DUNNING_PORT: new URL(t.runtime.urls.app).port });
    try {
      const notice = await fetch(`${site.url}/account/dunning-notice?customer=${dunned.subscriber.customerId}`);

      expect(notice.status).toBe(200);
      expect(await notice.json()).toMatchObject({ stage: 'Notice1', action: { url: expect.stringMatching(new RegExp(`^${t.runtime.urls.app}/u/`)) } });
    } finally {
      site.stop();
    }
  });

  it('logs why a banner fetch failed: the status and the reason, or the runtime not answering', async () => {
    const site = await startExampleSite({ DUNNING_PORT: new URL(t.runtime.urls.app).port, DUNNING_BANNER_TOKEN: 'not-the-banner-token' });
    const nowhere = await startExampleSite({ DUNNING_PORT: String(await freePort()) });
    try {
      const refused = await fetch(`${site.url}/account/dunning-notice?customer=${dunned.subscriber.customerId}`);
      const unreachable = await fetch(`${nowhere.url}/account/dunning-notice?customer=${dunned.subscriber.customerId}`);

      const said = (output: () => string, line: RegExp) => waitFor(async () => line.exec(output())?.[0], 5_000, `${line} in:\n${output()}`);

      expect(refused.status).toBe(502);
      expect(await said(site.output, /banner: the notice API answered 401 Unauthorized for http:\/\/127\.0\.0\.1:\d+\/customers\/cus_\w+\/notice: .*Bearer.*/)).toBeTruthy();
      expect(unreachable.status).toBe(502);
      expect(await said(nowhere.output, /banner: could not reach the notice API at http:\/\/127\.0\.0\.1:\d+\/customers\/cus_\w+\/notice: .*ECONNREFUSED.*/)).toBeTruthy();
    } finally {
      site.stop();
      nowhere.stop();
    }
  });
});
