// The signed token of the one-click "update payment details" link, GET /u/{token}. Pure: no I/O.
// It names one customer and one case and carries its expiry, so the link endpoint trusts nothing
// else from the request; the HMAC stops anyone from forging or editing one.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A link never outlives this, even when its case runs longer. */
export const MAX_LINK_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

/** The shortest signing key accepted: 256 bits of hex or base64 text is at least 32 characters. */
export const MIN_SIGNING_KEY_LENGTH = 32;

/** What a token says, once its signature has been checked. */
export interface LinkClaims {
  customerId: string;
  /** The case's invoice id. */
  invoiceId: string;
  /** Unix seconds after which the link is refused. */
  expiresAt: number;
}

export type LinkVerification =
  | { ok: true; claims: LinkClaims }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

const VERSION = 'v1';
const CUSTOMER_ID = /^cus_[A-Za-z0-9]+$/;
const INVOICE_ID = /^in_[A-Za-z0-9]+$/;
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

export function signLinkToken(claims: LinkClaims, key: string): string {
  if (!CUSTOMER_ID.test(claims.customerId)) throw new Error(`not a Stripe customer id: ${claims.customerId}`);
  if (!INVOICE_ID.test(claims.invoiceId)) throw new Error(`not a Stripe invoice id: ${claims.invoiceId}`);
  if (!Number.isSafeInteger(claims.expiresAt)) throw new Error('expiresAt must be whole unix seconds');
  const payload = Buffer.from(`${VERSION}.${claims.customerId}.${claims.invoiceId}.${claims.expiresAt}`).toString('base64url');
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
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };

  const fields = Buffer.from(payload, 'base64url').toString('utf8').split('.');
  const [version, customerId, invoiceId, expires] = fields;
  const expiresAt = Number(expires);
  if (
    fields.length !== 4 ||
    version !== VERSION ||
    !CUSTOMER_ID.test(customerId ?? '') ||
    !INVOICE_ID.test(invoiceId ?? '') ||
    !/^\d+$/.test(expires ?? '') ||
    !Number.isSafeInteger(expiresAt)
  ) {
    // Signed by us but not a shape we issue: a key shared with something else. Refuse it.
    return { ok: false, reason: 'malformed' };
  }
  if (now.getTime() >= expiresAt * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { customerId: customerId!, invoiceId: invoiceId!, expiresAt } };
}

/** `${base}/u/${token}`, whether or not the base ends in a slash (Function URLs do). */
export function linkUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/u/${token}`;
}

function mac(payload: string, key: string): Buffer {
  if (key.length < MIN_SIGNING_KEY_LENGTH) throw new Error(`the link signing key must be at least ${MIN_SIGNING_KEY_LENGTH} characters`);
  return createHmac('sha256', key).update(payload).digest();
}
