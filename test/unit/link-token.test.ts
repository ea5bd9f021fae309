// The one-click link's token: it opens only what it was signed for, only until it expires.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  headsUpLinkExpiry,
  linkExpiry,
  linkUrl,
  MAX_LINK_LIFETIME_MS,
  signLinkToken,
  verifyLinkToken,
  type CaseLinkClaims,
  type HeadsUpLinkClaims,
} from '#shared/links/token.ts';

const KEY = 'test-signing-key-0123456789abcdef0123456789';
const OTHER_KEY = 'another-signing-key-0123456789abcdef012345';
const NOW = new Date('2026-03-01T12:00:00Z');
const claims: CaseLinkClaims = { customerId: 'cus_Ada123', invoiceId: 'in_Fail456', expiresAt: Date.parse('2026-03-15T12:00:00Z') / 1000 };
const RENEWS_AT = Date.parse('2026-03-20T09:00:00Z') / 1000;
const headsUp: HeadsUpLinkClaims = { kind: 'heads_up', customerId: 'cus_Ada123', subscriptionId: 'sub_Renew789', renewsAt: RENEWS_AT, expiresAt: RENEWS_AT };

/** Signs any payload with the real key, as a key shared with something else might. */
function signedRaw(fields: string, key = KEY): string {
  const payload = Buffer.from(fields).toString('base64url');
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

/** Replaces the character at `index` with another base64url character. */
function flip(text: string, index: number): string {
  const c = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + c + text.slice(index + 1);
}

describe('signLinkToken / verifyLinkToken', () => {
  it('verifies a token it signed and returns its claims, as a case link', () => {
    const token = signLinkToken(claims, KEY);

    expect(verifyLinkToken(token, KEY, NOW)).toEqual({ ok: true, claims: { kind: 'case', ...claims } });
  });

  it('still verifies a case token in the first format, as links already in inboxes are', () => {
    // Exactly what the first issuer signed: v1.{customer}.{invoice}.{expiresAt}
    const old = signedRaw(`v1.cus_Ada123.in_Fail456.${claims.expiresAt}`);

    expect(signLinkToken(claims, KEY)).toBe(old);
    expect(verifyLinkToken(old, KEY, NOW)).toEqual({ ok: true, claims: { kind: 'case', ...claims } });
  });

  it('makes a URL-safe token with no padding', () => {
    expect(signLinkToken(claims, KEY)).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('refuses a token whose payload was edited to name another customer', () => {
    const token = signLinkToken(claims, KEY);
    const [, signature] = token.split('.');
    const forged = Buffer.from(`v1.cus_Mallory.in_Fail456.${claims.expiresAt}`).toString('base64url');

    expect(verifyLinkToken(`${forged}.${signature}`, KEY, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a token with any one character of its signature changed', () => {
    const token = signLinkToken(claims, KEY);
    const dot = token.indexOf('.');

    for (const index of [dot + 1, dot + 10, token.length - 2]) {
      expect(verifyLinkToken(flip(token, index), KEY, NOW).ok, `index ${index}`).toBe(false);
    }
  });

  it('refuses a token with its expiry pushed later', () => {
    const token = signLinkToken(claims, KEY);
    const [, signature] = token.split('.');
    const later = Buffer.from(`v1.${claims.customerId}.${claims.invoiceId}.${claims.expiresAt + 86_400 * 365}`).toString('base64url');

    expect(verifyLinkToken(`${later}.${signature}`, KEY, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses a token signed with another key', () => {
    expect(verifyLinkToken(signLinkToken(claims, OTHER_KEY), KEY, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses an expired token, from the second it expires', () => {
    const token = signLinkToken(claims, KEY);

    expect(verifyLinkToken(token, KEY, new Date(claims.expiresAt * 1000 - 1000)).ok).toBe(true);
    expect(verifyLinkToken(token, KEY, new Date(claims.expiresAt * 1000))).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses malformed tokens without throwing', () => {
    const token = signLinkToken(claims, KEY);
    for (const bad of ['', '.', 'abc', 'a.b.c', `${token}.`, token.replace('.', ''), 'a b.c', '../../etc', 'x'.repeat(600), '%00.%00']) {
      expect(verifyLinkToken(bad, KEY, NOW), JSON.stringify(bad)).toMatchObject({ ok: false });
    }
    expect(verifyLinkToken('abc.def', KEY, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyLinkToken('a.b.c', KEY, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses another spelling of the same signature bytes (the unused bits of its last character)', () => {
    const token = signLinkToken(claims, KEY);
    const [payload, signature] = token.split('.') as [string, string];
    // 32 bytes are 43 characters; the last one carries 2 bits of the MAC and 4 unused ones.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(signature.at(-1)!);
    const respelled = `${signature.slice(0, -1)}${alphabet[last ^ 1]}`;

    expect(Buffer.from(respelled, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    expect(verifyLinkToken(`${payload}.${respelled}`, KEY, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyLinkToken(token, KEY, NOW).ok).toBe(true);
  });

  it('refuses a correctly signed payload that is not a shape it issues', () => {
    const payload = Buffer.from('v1.cus_Ada123.not-an-invoice.123').toString('base64url');
    // Signed with the real key, as a key shared with something else might sign it.
    const signature = createHmac('sha256', KEY).update(payload).digest('base64url');

    expect(verifyLinkToken(`${payload}.${signature}`, KEY, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses to sign claims that are not Stripe ids', () => {
    expect(() => signLinkToken({ ...claims, customerId: 'cus_x.in_y' }, KEY)).toThrow(/customer id/);
    expect(() => signLinkToken({ ...claims, invoiceId: 'sub_1' }, KEY)).toThrow(/invoice id/);
  });

  it('refuses a key too short to be a real secret', () => {
    expect(() => signLinkToken(claims, 'short')).toThrow(/at least 32/);
  });
});

describe('heads-up tokens', () => {
  it('verifies a heads-up token it signed and returns its claims', () => {
    const token = signLinkToken(headsUp, KEY);

    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyLinkToken(token, KEY, NOW)).toEqual({ ok: true, claims: headsUp });
  });

  it('refuses a heads-up token edited to name another subscription, renewal or expiry', () => {
    const [, signature] = signLinkToken(headsUp, KEY).split('.');
    const edits = [
      `h1.cus_Ada123.sub_Other000.${RENEWS_AT}.${RENEWS_AT}`,
      `h1.cus_Ada123.sub_Renew789.${RENEWS_AT + 86_400 * 30}.${RENEWS_AT}`,
      `h1.cus_Ada123.sub_Renew789.${RENEWS_AT}.${RENEWS_AT + 86_400 * 30}`,
      `h1.cus_Mallory.sub_Renew789.${RENEWS_AT}.${RENEWS_AT}`,
    ];
    for (const edit of edits) {
      expect(verifyLinkToken(`${Buffer.from(edit).toString('base64url')}.${signature}`, KEY, NOW), edit).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });

  it('refuses a heads-up token signed with another key', () => {
    expect(verifyLinkToken(signLinkToken(headsUp, OTHER_KEY), KEY, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuses an expired heads-up token, from the second it expires', () => {
    const token = signLinkToken(headsUp, KEY);

    expect(verifyLinkToken(token, KEY, new Date(RENEWS_AT * 1000 - 1000)).ok).toBe(true);
    expect(verifyLinkToken(token, KEY, new Date(RENEWS_AT * 1000))).toEqual({ ok: false, reason: 'expired' });
  });

  it("never reads one kind's fields as the other's, even correctly signed", () => {
    const mixed = [
      // A heads-up version with a case's fields, and the reverse.
      `h1.cus_Ada123.in_Fail456.${claims.expiresAt}`,
      `h1.cus_Ada123.in_Fail456.${RENEWS_AT}.${RENEWS_AT}`,
      `v1.cus_Ada123.sub_Renew789.${RENEWS_AT}.${RENEWS_AT}`,
      `v1.cus_Ada123.sub_Renew789.${RENEWS_AT}`,
      // An unknown version, and fields out of place.
      `h2.cus_Ada123.sub_Renew789.${RENEWS_AT}.${RENEWS_AT}`,
      `h1.sub_Renew789.cus_Ada123.${RENEWS_AT}.${RENEWS_AT}`,
      `h1.cus_Ada123.sub_Renew789.${RENEWS_AT}`,
      `h1.cus_Ada123.sub_Renew789.${RENEWS_AT}.${RENEWS_AT}.1`,
      `h1.cus_Ada123.sub_Renew789.-1.${RENEWS_AT}`,
      `h1.cus_Ada123.sub_Renew789.${RENEWS_AT}.1e12`,
      `h1.cus_Ada123.sub_Renew789.${RENEWS_AT}.99999999999999999999`,
      `h1.cus_Ada123.sub_Renew789.${RENEWS_AT}.`,
    ];
    for (const fields of mixed) {
      expect(verifyLinkToken(signedRaw(fields), KEY, NOW), fields).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('refuses malformed heads-up tokens without throwing', () => {
    const token = signLinkToken(headsUp, KEY);
    for (const bad of [`${token}.`, token.replace('.', ''), token.split('.')[0]!, `.${token.split('.')[1]}`, `${token.slice(0, 20)}!${token.slice(21)}`]) {
      expect(verifyLinkToken(bad, KEY, NOW), JSON.stringify(bad)).toMatchObject({ ok: false });
    }
  });

  it('refuses to sign heads-up claims that are not Stripe ids or whole seconds', () => {
    expect(() => signLinkToken({ ...headsUp, subscriptionId: 'in_Fail456' }, KEY)).toThrow(/subscription id/);
    expect(() => signLinkToken({ ...headsUp, subscriptionId: 'sub_x.y' }, KEY)).toThrow(/subscription id/);
    expect(() => signLinkToken({ ...headsUp, customerId: 'cus_x.sub_y' }, KEY)).toThrow(/customer id/);
    expect(() => signLinkToken({ ...headsUp, renewsAt: 1.5 }, KEY)).toThrow(/renewsAt/);
  });
});

describe('headsUpLinkExpiry', () => {
  it('ends at the renewal when that comes within 30 days', () => {
    expect(headsUpLinkExpiry(RENEWS_AT, NOW)).toBe(RENEWS_AT);
  });

  it('ends after 30 days when the renewal is further away', () => {
    const inSixWeeks = NOW.getTime() / 1000 + 42 * 86_400;

    expect(headsUpLinkExpiry(inSixWeeks, NOW)).toBe((NOW.getTime() + MAX_LINK_LIFETIME_MS) / 1000);
  });

  it("lives 30 days when Stripe's test clock put the renewal behind our clock", () => {
    expect(headsUpLinkExpiry(Date.parse('2020-01-01T00:00:00Z') / 1000, NOW)).toBe((NOW.getTime() + MAX_LINK_LIFETIME_MS) / 1000);
  });
});

describe('linkExpiry', () => {
  it("ends at the case's end when that comes within 30 days", () => {
    expect(linkExpiry('2026-03-15T12:00:00.000Z', NOW)).toBe(Date.parse('2026-03-15T12:00:00Z') / 1000);
  });

  it('ends after 30 days when the case runs longer', () => {
    expect(linkExpiry('2026-06-01T00:00:00.000Z', NOW)).toBe((NOW.getTime() + MAX_LINK_LIFETIME_MS) / 1000);
  });

  it("lives 30 days when Stripe's test clock put the case's end behind our clock", () => {
    expect(linkExpiry('2020-01-01T00:00:00.000Z', NOW)).toBe((NOW.getTime() + MAX_LINK_LIFETIME_MS) / 1000);
  });
});

describe('linkUrl', () => {
  it('joins the base and the token with one slash', () => {
    expect(linkUrl('https://abc.lambda-url.eu-west-1.on.aws/', 'tok.sig')).toBe('https://abc.lambda-url.eu-west-1.on.aws/u/tok.sig');
    expect(linkUrl('http://127.0.0.1:3000', 'tok.sig')).toBe('http://127.0.0.1:3000/u/tok.sig');
  });
});
