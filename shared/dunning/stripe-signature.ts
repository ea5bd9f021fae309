// Stripe's webhook signature, checked as its docs describe it ("Verify the signature manually",
// docs.stripe.com/webhooks#verify-manually): `t=` a timestamp and `v1=` the HMAC-SHA256 of
// `${t}.${rawBody}` under the endpoint's signing secret, several `v1` while a secret is rolled.
//
// Hand-written rather than the SDK's `webhooks.constructEvent`: the stripe package exports no entry
// smaller than the whole client (about 250 KB of the webhook's bundle and most of its cold start),
// and this is all of it the webhook needs. test/unit/stripe-signature.test.ts holds it to the SDK's
// own answers, messages included, for valid, tampered, expired, rolled and malformed headers.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Stripe's default tolerance: a signature older than five minutes is a replay. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** Named as the SDK names its error, so logs and the answers read the same as before. */
export class StripeSignatureVerificationError extends Error {
  override readonly name = 'StripeSignatureVerificationError';
}

export interface VerifyOptions {
  /** @default SIGNATURE_TOLERANCE_SECONDS */
  toleranceSeconds?: number;
  /** Epoch milliseconds the delivery arrived. @default Date.now() */
  receivedAt?: number;
}

/**
 * Checks `header` against `rawBody` and returns the body parsed. Throws
 * StripeSignatureVerificationError for a bad signature (the SDK's messages), and SyntaxError for a
 * correctly signed body that is not JSON, as `constructEvent` does.
 */
export function verifyStripeSignature(rawBody: string, header: string, secret: string, options: VerifyOptions = {}): unknown {
  if (!secret) throw new StripeSignatureVerificationError('No webhook secret value was provided. It should start with `whsec_`');
  if (!header) throw new StripeSignatureVerificationError('No stripe-signature header value was provided.');
  let timestamp = -1;
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const [key, value] = item.split('=');
    if (key === 't') timestamp = Number.parseInt(value ?? '', 10);
    if (key === 'v1' && value !== undefined) signatures.push(value);
  }
  if (!Number.isFinite(timestamp) || timestamp === -1) throw new StripeSignatureVerificationError('Unable to extract timestamp and signatures from header');
  if (signatures.length === 0) throw new StripeSignatureVerificationError('No signatures found with expected scheme');

  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest();
  const matches = signatures.some((signature) => {
    const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, 'hex') : undefined;
    return given !== undefined && timingSafeEqual(given, expected);
  });
  if (!matches) {
    throw new StripeSignatureVerificationError(
      'No signatures found matching the expected signature for payload. Are you passing the raw request body you received from Stripe?',
    );
  }
  const age = Math.floor((options.receivedAt ?? Date.now()) / 1000) - timestamp;
  if (age > (options.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS)) throw new StripeSignatureVerificationError('Timestamp outside the tolerance zone');
  return JSON.parse(rawBody) as unknown;
}
