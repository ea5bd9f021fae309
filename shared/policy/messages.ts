// The catalog's keys a policy may name: each message kind, and the languages every kind is written
// in. The catalogs themselves (shared/notices/) are checked against these when they compile.

/** The notices the product ships copy for, in every language. */
export const MESSAGE_KINDS = [
  'payment_failed',
  'act_now',
  'due_to_terminate',
  'terminated',
  'recovered',
  'action_required',
  'card_expiring',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

const LANGUAGES = ['en', 'fr', 'de'] as const;
/** A language the catalogs are written in (shared/notices/locales/). */
export type CatalogLanguage = (typeof LANGUAGES)[number];
/** Every catalog language, in the catalogs' order. */
export const CATALOG_LANGUAGES: readonly string[] = LANGUAGES;

/** The primary language subtag of a BCP 47 tag: "fr-CA" → "fr". */
export function languageOf(locale: string): string {
  return (locale.split('-')[0] ?? locale).toLowerCase();
}
