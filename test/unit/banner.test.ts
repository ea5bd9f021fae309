// The My Account banner's severity, shape and words (the product owner's, for the default policy's
// three notices, in every language), and the link endpoint's refusal pages.
import { describe, expect, it } from 'vitest';
import { sampleCase } from '#local/preview/samples.ts';
import { bannerOf, bannerSeverity } from '#shared/dunning/banner.ts';
import type { Banner } from '#shared/domain/case.ts';
import { renderLinkPage, type LinkPage } from '#shared/links/pages.ts';
import { renderNotice } from '#shared/notices/render.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import { parsePolicy } from '#shared/policy/load.ts';
import type { NoticeSpec } from '#shared/policy/schema.ts';

const policy = loadPolicyFile();

/** The banner a stage of `policy` leaves for a customer of `language`, as the stage stores it. */
function bannerAt(stage: string, language: string, notice?: NoticeSpec, forPolicy = policy): Banner | undefined {
  const found = forPolicy.stages.find((s) => s.id === stage);
  if (found?.type !== 'notice') throw new Error(`no notice stage ${stage}`);
  const dunningCase = sampleCase(language, forPolicy);
  const rendered = renderNotice(notice ?? found.notice, { policy: forPolicy, dunningCase, updatePaymentUrl: 'https://pay.example/u/t.s' });
  return bannerOf(forPolicy, dunningCase, stage, rendered, 'https://fallback.test', '2026-03-02T09:30:00.000Z');
}

describe('bannerSeverity', () => {
  it('escalates info → warning → critical over the default policy’s three notices', () => {
    expect(['Notice1', 'Notice2', 'Notice3'].map((stage) => bannerSeverity(policy, stage))).toEqual(['info', 'warning', 'critical']);
  });

  it('makes "action required" a warning', () => {
    expect(bannerSeverity(policy, 'ActionRequired')).toBe('warning');
  });

  it('makes the last notice critical whatever the policy’s length', () => {
    const two = parsePolicy(
      { ...policy, stages: policy.stages.filter((s) => s.id !== 'Notice2' && s.id !== 'Retry2') },
      'two-notice policy',
    );
    expect(['Notice1', 'Notice3'].map((stage) => bannerSeverity(two, stage))).toEqual(['info', 'critical']);
  });
});

describe('bannerOf', () => {
  const dunningCase = { customerId: 'cus_1', invoiceId: 'in_1', terminatesAt: '2026-03-15T00:00:00.000Z' };

  it("carries the banner's headline and body, the button and the end date the notice rendered", () => {
    const banner = bannerOf(
      policy,
      dunningCase,
      'Notice2',
      { banner: { headline: 'Act now', body: 'Pay £15' }, action: { label: 'Update payment details', url: 'https://x.test/u/t.s' } },
      'https://fallback.test',
      '2026-03-01T00:00:00.000Z',
    );

    expect(banner).toEqual({
      customerId: 'cus_1',
      invoiceId: 'in_1',
      stage: 'Notice2',
      severity: 'warning',
      headline: 'Act now',
      body: 'Pay £15',
      action: { label: 'Update payment details', url: 'https://x.test/u/t.s' },
      terminatesAt: '2026-03-15T00:00:00.000Z',
      createdAt: '2026-03-01T00:00:00.000Z',
    });
  });

  it('leaves no banner when the notice has no banner text', () => {
    expect(bannerOf(policy, dunningCase, 'Notice1', {}, 'https://f.test', 'now')).toBeUndefined();
  });
});

describe('renderLinkPage', () => {
  const context = { brandName: 'Acme <Billing>', myAccountUrl: 'https://acme.test/account?a=1&b=2' };

  it.each<[LinkPage, number]>([
    ['invalid', 404],
    ['expired', 410],
    ['paid', 200],
    ['closed', 410],
    ['rate_limited', 429],
    ['unavailable', 503],
  ])('answers %s with %i, HTML, no caching, and a link to My Account', (page, status) => {
    const rendered = renderLinkPage(page, context);

    expect(rendered.status).toBe(status);
    expect(rendered.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(rendered.headers['cache-control']).toBe('no-store');
    expect(rendered.body).toContain('href="https://acme.test/account?a=1&amp;b=2"');
    expect(rendered.body).toContain('Acme &lt;Billing&gt;');
    expect(rendered.body).not.toMatch(/<script|Error|at .*\.ts/);
  });

  it('thanks a customer whose payment already went through', () => {
    expect(renderLinkPage('paid', context).body).toMatch(/Thank you, it(&#39;|’)s already sorted/);
  });

  it('asks a rate-limited caller to come back later', () => {
    expect(renderLinkPage('rate_limited', context).headers['retry-after']).toBe('600');
  });

  it('drops a My Account link that is not http(s)', () => {
    expect(renderLinkPage('invalid', { brandName: 'Acme', myAccountUrl: 'javascript:alert(1)' }).body).not.toContain('javascript:');
  });
});

describe("the default policy's banners", () => {
  const stages = ['Notice1', 'Notice2', 'Notice3'];

  it("say the product owner's words in English at each notice", () => {
    const banners = stages.map((stage) => bannerAt(stage, 'en'));

    expect(banners.map((b) => [b?.headline, b?.body])).toEqual([
      [
        "We haven't been able to take payment",
        'You must update your payment details via My Account or by clicking update payment details to keep your subscription.',
      ],
      [
        'Act now to keep your subscription',
        "We've tried to contact you several times as we haven't been able to take payment. You must update your payment details via My Account or by clicking update payment details to keep your subscription.",
      ],
      [
        'Your subscription is due to terminate',
        "We've tried to contact you several times as we haven't been able to take payment. You must update your payment details via My Account, otherwise your subscription will terminate.",
      ],
    ]);
    expect(banners.map((b) => b?.action.label)).toEqual(['Update payment details', 'Update payment details', 'Update payment details']);
  });

  it.each([
    ['fr', 'Mon compte', 'Mettre à jour mon moyen de paiement'],
    ['de', 'Mein Konto', 'Zahlungsdaten aktualisieren'],
  ])('say it in %s in their own words, naming My Account and the button as its emails do', (language, myAccount, button) => {
    const english = stages.map((stage) => bannerAt(stage, 'en')!);

    const banners = stages.map((stage) => bannerAt(stage, language)!);

    banners.forEach((banner, i) => {
      expect(banner.headline, stages[i]).not.toBe(english[i]!.headline);
      expect(banner.body, stages[i]).not.toBe(english[i]!.body);
      expect(banner.body, stages[i]).not.toMatch(/My Account|payment details|subscription/);
      expect(banner.body, stages[i]).toContain(myAccount);
      expect(banner.action.label, stages[i]).toBe(button);
    });
    // Notices 1 and 2 point at the button beside them by its label, as English does.
    expect(banners.slice(0, 2).map((b) => b.body.includes(button))).toEqual([true, true]);
  });

  it("keeps a policy's own copy working: its banner text under the email's heading", () => {
    const own: NoticeSpec = { subject: 'Payment failed', heading: 'Please pay', body: ['Your card was declined.'], link: 'update_payment', banner: 'Pay {amount} now.' };

    expect(bannerAt('Notice1', 'en', own)).toMatchObject({ headline: 'Please pay', body: 'Pay £15.00 now.' });
    expect(bannerAt('Notice1', 'fr', { locales: { en: own, fr: { ...own, heading: 'Veuillez payer', banner: 'Payez {amount}.' } } })).toMatchObject({
      headline: 'Veuillez payer',
      body: 'Payez 15,00\u00a0€.',
    });
  });
});
