// The notice catalogs: every word a customer reads, one file per language under ./locales/.
// A policy stage names a message by its kind; the customer's language picks the catalog.
import { de } from './locales/de.ts';
import { en } from './locales/en.ts';
import { fr } from './locales/fr.ts';

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

/**
 * One message. Text may use the policy's placeholders ({amount}, {terminatesOn}, …) and one link
 * form, `[label]({myAccountUrl})`: a link in HTML, "label (url)" in the plain-text part.
 */
export interface MessageCopy {
  subject: string;
  heading: string;
  /** Paragraphs after the greeting. */
  body: readonly string[];
  /** The button label; omit for no button. */
  action?: string;
  /** The My Account banner; omit when the notice should not set a banner. */
  banner?: BannerCopy;
}

/** The My Account banner's words: shorter than the email, beside a button, on the customer's own page. */
export interface BannerCopy {
  headline: string;
  body: string;
}

export interface Catalog {
  /** The language this catalog is written in: a BCP 47 primary language subtag. */
  language: string;
  greeting: {
    /** Uses {customerName}: the first name Stripe has for the customer. */
    named: string;
    /** When Stripe has no name. */
    anonymous: string;
  };
  /** Fills {customerName} in a policy's own (inline) copy when Stripe has no name; may be empty. */
  nameFallback: string;
  messages: Record<MessageKind, MessageCopy>;
  /** The frame around every message. */
  layout: {
    /** Above the bare link under the button, for mail clients that break buttons. */
    buttonHelp: string;
    /** Why the customer gets this email. */
    about: string;
    /** Where to manage the subscription; uses [label]({myAccountUrl}). */
    manage: string;
    /** Uses {supportEmail}. */
    support: string;
    /** Between the button label and its URL in the plain-text part: ":" in English, "\u00a0:" in French. */
    colon: string;
  };
}

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

/** Every catalog, by language. English is the reference the others are tested against. */
export const CATALOGS: Readonly<Record<string, Catalog>> = { en, fr, de };
export const CATALOG_LANGUAGES = Object.keys(CATALOGS);
export const REFERENCE_LANGUAGE = 'en';

/** The primary language subtag of a BCP 47 tag: "fr-CA" → "fr". */
export function languageOf(locale: string): string {
  return (locale.split('-')[0] ?? locale).toLowerCase();
}

export function catalogFor(language: string): Catalog | undefined {
  return Object.hasOwn(CATALOGS, language) ? CATALOGS[language] : undefined;
}
