// The notice catalogs: every word a customer reads, one file per language under ./locales/.
// A policy stage names a message by its kind; the customer's language picks the catalog.
import { de } from './locales/de.ts';
import { en } from './locales/en.ts';
import { fr } from './locales/fr.ts';
import type { CatalogLanguage, MessageKind } from '../policy/messages.ts';
import type { Catalog } from './locales/catalog-shape.ts';

/** Where each message's button leads: the card update, or the invoice page (3-D Secure). */
export const MESSAGE_LINKS: Record<MessageKind, 'update_payment' | 'invoice'> = {
  payment_failed: 'update_payment',
  act_now: 'update_payment',
  due_to_terminate: 'update_payment',
  terminated: 'update_payment',
  recovered: 'update_payment',
  action_required: 'invoice',
  card_expiring: 'update_payment',
};

/**
 * Every catalog, by language: one for each of the policy's CATALOG_LANGUAGES, or this does not
 * compile. English is the reference the others are tested against.
 */
export const CATALOGS: Readonly<Record<string, Catalog>> = { en, fr, de } satisfies Record<CatalogLanguage, Catalog>;
export const REFERENCE_LANGUAGE = 'en';

export function catalogFor(language: string): Catalog | undefined {
  return Object.hasOwn(CATALOGS, language) ? CATALOGS[language] : undefined;
}
