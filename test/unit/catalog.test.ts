// Every locale must say everything English says, with the same placeholders and links: a missing
// {terminatesOn} in one language would send a customer a deadline-less final notice.
import { describe, expect, it } from 'vitest';
import { CATALOGS, REFERENCE_LANGUAGE } from '#shared/notices/catalog.ts';
import type { Catalog } from '#shared/notices/locales/catalog-shape.ts';
import { MESSAGE_KINDS } from '#shared/policy/messages.ts';
import { LINK_PATTERN, templateProblems } from '#shared/policy/schema.ts';

const reference = CATALOGS[REFERENCE_LANGUAGE]!;
const others = Object.entries(CATALOGS).filter(([language]) => language !== REFERENCE_LANGUAGE);

/** Every string in a catalog, by its path ("messages.act_now.body[1]"). */
function strings(catalog: Catalog): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'string') out.set(path, value);
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
  };
  walk(catalog, '');
  out.delete('language');
  return out;
}

const placeholders = (text: string) => [...text.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]).sort();
const links = (text: string) => [...text.matchAll(LINK_PATTERN)].map((m) => m[2]).sort();

/** Each text whose placeholders or links differ from the English one. */
function mismatchesWithEnglish(catalog: Catalog): string[] {
  const theirs = strings(catalog);
  return [...strings(reference)].flatMap(([path, english]) => {
    const text = theirs.get(path) ?? '';
    const same = JSON.stringify(placeholders(text)) === JSON.stringify(placeholders(english)) && JSON.stringify(links(text)) === JSON.stringify(links(english));
    return same ? [] : [`${path}: ${JSON.stringify(text)} vs English ${JSON.stringify(english)}`];
  });
}

describe('the locale catalogs', () => {
  it('ship English, French and German', () => {
    expect(Object.keys(CATALOGS).sort()).toEqual(['de', 'en', 'fr']);
    for (const [language, catalog] of Object.entries(CATALOGS)) expect(catalog.language).toBe(language);
  });

  it('have every message kind in English', () => {
    expect(Object.keys(reference.messages).sort()).toEqual([...MESSAGE_KINDS].sort());
  });

  it.each(others)('%s has every message and every field English has, and nothing else', (_language, catalog) => {
    const theirs = strings(catalog);
    const ours = strings(reference);
    // nameFallback may legitimately be empty ("Bonjour," needs no stand-in name).
    expect([...theirs.keys()].sort()).toEqual([...ours.keys()].sort());
  });

  it.each(others)('%s uses exactly the placeholders and links of English in every text', (_language, catalog) => {
    expect(mismatchesWithEnglish(catalog)).toEqual([]);
  });

  it.each(Object.entries(CATALOGS))('%s has no text but its name fallback left empty, and no placeholder a notice cannot fill', (_language, catalog) => {
    const problems = [...strings(catalog)].flatMap(([path, text]) => [
      ...(text.trim() === '' && path !== 'nameFallback' ? [`${path}: empty`] : []),
      ...templateProblems(text).map((p) => `${path}: ${p}`),
    ]);
    expect(problems).toEqual([]);
  });

  it('would catch a translation that drops a placeholder or a link', () => {
    const broken = structuredClone(CATALOGS.fr!) as Catalog;
    const body = broken.messages.due_to_terminate.body as string[];
    body[1] = body[1]!.replace(' le {terminatesOn}', ' bientôt').replace('[Mon compte]({myAccountUrl})', 'Mon compte');

    expect(mismatchesWithEnglish(broken)).toEqual([expect.stringMatching(/^messages\.due_to_terminate\.body\[1\]: /)]);
  });
});
