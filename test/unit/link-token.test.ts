// The one-click link's token: it opens only what it was signed for, only until it expires.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { linkExpiry, linkUrl, MAX_LINK_LIFETIME_MS, signLinkToken, verifyLinkToken, type LinkClaims } from '#shared/links/token.ts';

const KEY = 'test-signing-key-0123456789abcdef0123456789';
const OTHER_KEY = 'another-signing-key-0123456789abcdef012345';
const NOW = new Date('2026-03-01T12:00:00Z');
const claims: LinkClaims = { customerId: 'cus_Ada123', invoiceId: 'in_Fail456', expiresAt: Date.parse('2026-03-15T12:00:00Z') / 1000 };

/** Replaces the character at `index` with another base64url character. */
function flip(text: string, index: number): string {
  const c = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + c + text.slice(index + 1);
}

describe('signLinkToken / verifyLinkToken', () => {
  it('verifies a token it signed and returns its claims', () => {
    const token = signLinkToken(claims, KEY);

    expect(verifyLinkToken(token, KEY, NOW)).toEqual({ ok: true, claims });
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
