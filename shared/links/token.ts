// The signed token of the one-click "update payment details" link, GET /u/{token}. Pure: no I/O.
// It names one customer and either one case (a dunning notice's link) or one upcoming renewal (the
// pre-dunning heads-up's, sent before any case exists), and carries its expiry, so the link endpoint
// trusts nothing else from the request; the HMAC stops anyone from forging or editing one.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A link never outlives this, even when its case runs longer. */
export const MAX_LINK_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

/** The shortest signing key accepted: 256 bits of hex or base64 text is at least 32 characters. */
export const MIN_SIGNING_KEY_LENGTH = 32;

/** A dunning notice's link: one customer's one case. */
export interface CaseLinkClaims {
  /** Optional when signing (the first kind of token); always set by verifyLinkToken. */
  kind?: 'case';
  customerId: string;
  /** The case's invoice id. */
  invoiceId: string;
  /** Unix seconds after which the link is refused. */
  expiresAt: number;
}

/** A pre-dunning heads-up's link: one customer's one renewal, before it fails (there is no case yet). */
export interface HeadsUpLinkClaims {
  kind: 'heads_up';
  customerId: string;
  /** The subscription that renews. */
  subscriptionId: string;
  /** When it renews: unix seconds, Stripe's clock. */
  renewsAt: number;
  /** Unix seconds after which the link is refused. */
  expiresAt: number;
}

/** What a token says, once its signature has been checked. */
export type LinkClaims = CaseLinkClaims | HeadsUpLinkClaims;

export type LinkVerification =
  | { ok: true; claims: LinkClaims }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

/**
 * The first field of the signed payload says its kind, so one kind can never be read as the other:
 * `v1.{customer}.{invoice}.{expiresAt}` (a case, the first format: links already sent stay valid) and
 * `h1.{customer}.{subscription}.{renewsAt}.{expiresAt}` (a heads-up).
 */
const CASE_VERSION = 'v1';
const HEADS_UP_VERSION = 'h1';
const CUSTOMER_ID = /^cus_[A-Za-z0-9]+$/;
const INVOICE_ID = /^in_[A-Za-z0-9]+$/;
const SUBSCRIPTION_ID = /^sub_[A-Za-z0-9]+$/;
const SECONDS = /^\d+$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * When a link made now for a case expires: at the case's end (`terminatesAt`), or after 30 days,
 * whichever comes first. Stripe's test clocks can put `terminatesAt` behind our clock; such a link
 * still lives 30 days, and the endpoint's check of the case ends it with the case anyway.
 */
export function linkExpiry(terminatesAt: string, now: Date): number {
  const latest = now.getTime() + MAX_LINK_LIFETIME_MS;
  const end = Date.parse(terminatesAt);
  const expiresMs = Number.isFinite(end) && end > now.getTime() ? Math.min(end, latest) : latest;
  return Math.floor(expiresMs / 1000);
}

/**
 * When a heads-up's link made now expires: at the renewal it is about (after it, the renewal has
 * either been paid or opened a case whose notices carry their own links), or after 30 days,
 * whichever comes first. A renewal behind our clock (a Stripe test clock) gets the 30 days.
 */
export function headsUpLinkExpiry(renewsAt: number, now: Date): number {
  return linkExpiry(new Date(renewsAt * 1000).toISOString(), now);
}

export function signLinkToken(claims: LinkClaims, key: string): string {
  if (!CUSTOMER_ID.test(claims.customerId)) throw new Error(`not a Stripe customer id: ${claims.customerId}`);
  if (!Number.isSafeInteger(claims.expiresAt) || claims.expiresAt < 0) throw new Error('expiresAt must be whole unix seconds');
  let fields: string;
  if (claims.kind === 'heads_up') {
    if (!SUBSCRIPTION_ID.test(claims.subscriptionId)) throw new Error(`not a Stripe subscription id: ${claims.subscriptionId}`);
    if (!Number.isSafeInteger(claims.renewsAt) || claims.renewsAt < 0) throw new Error('renewsAt must be whole unix seconds');
    fields = `${HEADS_UP_VERSION}.${claims.customerId}.${claims.subscriptionId}.${claims.renewsAt}.${claims.expiresAt}`;
  } else {
    if (!INVOICE_ID.test(claims.invoiceId)) throw new Error(`not a Stripe invoice id: ${claims.invoiceId}`);
    fields = `${CASE_VERSION}.${claims.customerId}.${claims.invoiceId}.${claims.expiresAt}`;
  }
  const payload = Buffer.from(fields).toString('base64url');
  return `${payload}.${mac(payload, key).toString('base64url')}`;
}

/** Checks shape, then signature (in constant time), then expiry; never throws on bad input. */
export function verifyLinkToken(token: string, key: string, now: Date): LinkVerification {
  const parts = token.split('.');
  if (parts.length !== 2 || token.length > 512) return { ok: false, reason: 'malformed' };
  const [payload, signature] = parts as [string, string];
  if (!BASE64URL.test(payload) || !BASE64URL.test(signature)) return { ok: false, reason: 'malformed' };

  const expected = mac(payload, key);
  const given = Buffer.from(signature, 'base64url');
  // One spelling per token: base64url's last character carries unused bits, so another spelling of
  // the same bytes (e.g. …A for …B) is a changed link, and is refused like any other change.
  if (given.toString('base64url') !== signature) return { ok: false, reason: 'bad_signature' };
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };

  const claims = parseClaims(Buffer.from(payload, 'base64url').toString('utf8'));
  // Signed by us but not a shape we issue: a key shared with something else. Refuse it.
  if (!claims) return { ok: false, reason: 'malformed' };
  if (now.getTime() >= claims.expiresAt * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

/** The claims of a signed payload, if it is exactly one of the shapes signLinkToken makes. */
function parseClaims(text: string): LinkClaims | undefined {
  const fields = text.split('.');
  const seconds = (field: string | undefined) => (field !== undefined && SECONDS.test(field) && Number.isSafeInteger(Number(field)) ? Number(field) : undefined);
  const [version, customerId = ''] = fields;
  if (!CUSTOMER_ID.test(customerId)) return undefined;
  if (version === CASE_VERSION && fields.length === 4) {
    const [, , invoiceId = '', expires] = fields;
    const expiresAt = seconds(expires);
    if (!INVOICE_ID.test(invoiceId) || expiresAt === undefined) return undefined;
    return { kind: 'case', customerId, invoiceId, expiresAt };
  }
  if (version === HEADS_UP_VERSION && fields.length === 5) {
    const [, , subscriptionId = '', renews, expires] = fields;
    const renewsAt = seconds(renews);
    const expiresAt = seconds(expires);
    if (!SUBSCRIPTION_ID.test(subscriptionId) || renewsAt === undefined || expiresAt === undefined) return undefined;
    return { kind: 'heads_up', customerId, subscriptionId, renewsAt, expiresAt };
  }
  return undefined;
}

/** `${base}/u/${token}`, whether or not the base ends in a slash (Function URLs do). */
export function linkUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/u/${token}`;
}

function mac(payload: string, key: string): Buffer {
  if (key.length < MIN_SIGNING_KEY_LENGTH) throw new Error(`the link signing key must be at least ${MIN_SIGNING_KEY_LENGTH} characters`);
  return createHmac('sha256', key).update(payload).digest();
}
