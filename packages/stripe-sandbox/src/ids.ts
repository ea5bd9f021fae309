// Stripe-looking object ids. Stripe mixes two styles: short 14-char ids (cus_, prod_, si_, req_)
// and 24-char ids that start with a digit (in_1…, pi_3…); clients only rely on the prefix.
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i]! % ALPHABET.length];
  return out;
}

const SHORT = new Set(['cus', 'prod', 'si', 'req', 'bpc']);

export function newId(prefix: string): string {
  if (SHORT.has(prefix)) return `${prefix}_${randomAlnum(14)}`;
  const lead = prefix === 'pi' || prefix === 'ch' || prefix === 'txn' ? '3' : '1';
  return `${prefix}_${lead}${randomAlnum(23)}`;
}

export function upperHex(length: number): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length).toUpperCase();
}
