// The My Account banner's severity and shape, and the link endpoint's refusal pages.
import { describe, expect, it } from 'vitest';
import { bannerOf, bannerSeverity } from '#shared/dunning/banner.ts';
import { renderLinkPage, type LinkPage } from '#shared/links/pages.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import { parsePolicy } from '#shared/policy/load.ts';

const policy = loadPolicyFile();

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

  it('carries the headline, banner text, button and end date the notice rendered', () => {
    const banner = bannerOf(
      policy,
      dunningCase,
      'Notice2',
      { heading: 'Act now', banner: 'Pay £15', action: { label: 'Update payment details', url: 'https://x.test/u/t.s' } },
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
    expect(bannerOf(policy, dunningCase, 'Notice1', { heading: 'h' }, 'https://f.test', 'now')).toBeUndefined();
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
