// The notices in real Chromium: every one fits a 320 px screen without sideways scrolling, and
// `npm run preview` writes every notice in every locale with a screenshot and an index.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { previewNotices, sampleCase } from '#local/preview/samples.ts';
import { renderNotice } from '#shared/notices/render.ts';
import { defaultPolicy, policyWith } from '../fixtures/policies.ts';
import { CHROMIUM, describeInChromium, launchChromium } from '../fixtures/browser.ts';
import { preview } from '../fixtures/preview.ts';

let browser: Browser;
let page: Page;
beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 320, height: 640 } });
  // Mail is read offline here: a remote logo must not be fetched (its alt text shows instead).
  await page.route(/^https?:/, (route) => route.abort());
});
afterAll(async () => {
  await browser?.close();
});

/** How far the page reaches past the viewport's right edge, and where the button ends. */
async function layoutAt320(html: string) {
  await page.setContent(html, { waitUntil: 'load' });
  // A string, not a function: this project's TypeScript has no DOM types, and the code runs in the page.
  return page.evaluate<{ scrollWidth: number; widest: number; buttonRight?: number }>(`(() => {
    const button = [...document.querySelectorAll('a')].find((a) => (a.getAttribute('style') || '').includes('padding:12px 20px'));
    return {
      scrollWidth: document.documentElement.scrollWidth,
      widest: Math.max(...[...document.querySelectorAll('body *')].map((e) => e.getBoundingClientRect().right)),
      buttonRight: button ? button.getBoundingClientRect().right : undefined,
    };
  })()`);
}

const logoPolicy = policyWith((p) => {
  p.brand.logoUrl = 'https://cdn.acme.example/a-rather-wide-logo.png';
});
const notices = [...previewNotices(defaultPolicy()), ...previewNotices(logoPolicy)];

describeInChromium('every notice at 320 px wide', () => {
  it.each(notices.map((n, i) => [`${n.locale} ${n.id}${i >= notices.length / 2 ? ' (logo)' : ''}`, n] as const))(
    '%s has no horizontal overflow',
    async (_name, n) => {
      const layout = await layoutAt320(n.rendered.html);

      expect(layout.scrollWidth).toBeLessThanOrEqual(320);
      expect(layout.widest).toBeLessThanOrEqual(320);
      if (n.rendered.action) expect(layout.buttonRight).toBeLessThanOrEqual(320);
    },
  );

  it('still fits when the customer name and the link are one very long word', async () => {
    const policy = defaultPolicy();
    const dunningCase = { ...sampleCase('de', policy), customerName: 'Maximilianmaximiliankonstantinfriedrichwilhelmvonundzuhohenberg Xy' };
    const notice = policy.stages.find((s) => s.type === 'notice')!;
    const rendered = renderNotice(notice.type === 'notice' ? notice.notice : { message: 'payment_failed' }, {
      policy,
      dunningCase,
      updatePaymentUrl: `https://billing.example.com/u/${'x'.repeat(200)}`,
    });

    const layout = await layoutAt320(rendered.html);

    expect(layout.scrollWidth).toBeLessThanOrEqual(320);
  });

  it('would notice an overflow (the check is not vacuous)', async () => {
    const layout = await layoutAt320('<!doctype html><html><body><table width="600"><tr><td>wide</td></tr></table></body></html>');

    expect(layout.scrollWidth).toBeGreaterThan(320);
  });
});

describeInChromium('npm run preview', () => {
  let outDir: string;
  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'notices-preview-'));
  });
  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
  });

  it('writes every notice in every locale as HTML, text and a PNG screenshot, with an index', async () => {
    const run = await preview(['--out', outDir], { CHROMIUM_PATH: CHROMIUM });

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).not.toContain('need Chromium');
    const index = readFileSync(join(outDir, 'index.html'), 'utf8');
    for (const locale of ['en-GB', 'fr-FR', 'de-DE']) {
      for (const id of ['Notice1', 'Notice2', 'Notice3', 'ActionRequired', 'Recovered', 'Terminate']) {
        for (const ext of ['html', 'txt', 'png']) expect(existsSync(join(outDir, `${locale}/${id}.${ext}`)), `${locale}/${id}.${ext}`).toBe(true);
        expect(index).toContain(`href="${locale}/${id}.html"`);
        const png = readFileSync(join(outDir, `${locale}/${id}.png`));
        expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      }
    }
    expect(index).toContain('Votre abonnement va bientôt être résilié');
    expect(index).toContain('Ihr Abonnement endet in Kürze');
    expect(readFileSync(join(outDir, 'en-GB/Notice3.txt'), 'utf8')).toMatch(/^Subject: Your subscription is due to terminate\n/);
  });
});

