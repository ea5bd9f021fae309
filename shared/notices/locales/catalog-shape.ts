// The shape of a notice catalog: what each language's file beside this one writes, and what the
// renderer reads. Kept apart from ../catalog.ts, which imports every catalog, so a catalog imports only this.
import type { MessageKind } from '../../policy/messages.ts';

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
