// What mail clients need from every notice, checked for every notice in every locale: inline styles
// only, no scripts, alt text on every image, safe links, and a plain-text part that says it all.
// The 320 px layout is checked in a real browser: test/browser/notices.test.ts.
import { describe, expect, it } from 'vitest';
import { previewNotices, type PreviewNotice } from '#local/preview/samples.ts';
import { defaultPolicy, policyWith } from '../fixtures/policies.ts';

const withLogo = policyWith((p) => {
  p.brand.logoUrl = 'https://cdn.acme.example/logo.png';
});
const notices: PreviewNotice[] = [...previewNotices(defaultPolicy()), ...previewNotices(withLogo)];
const cases = notices.map((n) => [`${n.locale} ${n.id}${n.rendered.html.includes('<img') ? ' (logo)' : ''}`, n] as const);

const tags = (html: string) => [...html.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>/g)].map((m) => ({ name: m[1]!.toLowerCase(), attrs: m[2]! }));

describe('every notice, in every locale', () => {
  it('covers each notice of the policy in English, French and German', () => {
    expect(new Set(notices.map((n) => n.locale))).toEqual(new Set(['en-GB', 'fr-FR', 'de-DE']));
    expect(new Set(notices.map((n) => n.id))).toEqual(new Set(['PreDunning', 'Notice1', 'Notice2', 'Notice3', 'ActionRequired', 'Recovered', 'Terminate']));
    expect(new Set(notices.map((n) => n.rendered.language))).toEqual(new Set(['en', 'fr', 'de']));
  });

  it.each(cases)('%s: styles inline only: no <style>, no stylesheet, no class', (_name, n) => {
    const found = tags(n.rendered.html);

    expect(found.filter((t) => t.name === 'style' || t.name === 'link')).toEqual([]);
    expect(found.filter((t) => /\sclass\s*=/i.test(t.attrs))).toEqual([]);
  });

  it.each(cases)('%s: no scripts, event handlers, forms or frames', (_name, n) => {
    const found = tags(n.rendered.html);

    expect(found.filter((t) => ['script', 'iframe', 'form', 'object', 'embed'].includes(t.name))).toEqual([]);
    expect(found.filter((t) => /\son[a-z]+\s*=/i.test(t.attrs))).toEqual([]);
    expect(n.rendered.html).not.toMatch(/javascript:/i);
  });

  it.each(cases)('%s: every image has alt text', (_name, n) => {
    const images = tags(n.rendered.html).filter((t) => t.name === 'img');

    for (const image of images) expect(image.attrs).toMatch(/\salt="[^"]+"/);
  });

  it.each(cases)('%s: links go to http(s) or mailto only', (_name, n) => {
    const hrefs = [...n.rendered.html.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1]!);

    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).toMatch(/^(https?:\/\/|mailto:)/);
  });

  it.each(cases)('%s: declares its language, charset and a mobile viewport', (_name, n) => {
    expect(n.rendered.html).toContain(`<html lang="${n.rendered.language}">`);
    expect(n.rendered.html).toContain('<meta charset="utf-8">');
    expect(n.rendered.html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it.each(cases)('%s: has a plain-text part with the whole message, the link and the footer', (_name, n) => {
    const { text, heading, paragraphs, action } = n.rendered;

    expect(text).not.toMatch(/<[a-z/][^>]*>/i);
    expect(text.startsWith(`${heading}\n`)).toBe(true);
    for (const paragraph of paragraphs) expect(text).toContain(paragraph);
    if (action) expect(text).toContain(action.url);
    expect(text).toContain('support@acme.test');
    expect(text).toContain('http://127.0.0.1:3000/account');
  });

  it.each(cases)('%s: leaves no placeholder unfilled', (_name, n) => {
    for (const part of [n.rendered.subject, n.rendered.text, n.rendered.html, n.rendered.banner?.headline ?? '', n.rendered.banner?.body ?? '']) {
      expect(part).not.toMatch(/\{[A-Za-z]+\}/);
      expect(part).not.toMatch(/\]\(/);
    }
  });
});
