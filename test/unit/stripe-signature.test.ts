// The webhook's own signature check, held to the Stripe SDK's: every header the SDK signs passes,
// every one it refuses is refused, with its message, so the webhook answers what it answered with
// the SDK (README, test/e2e/webhook.test.ts) without bundling it.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_TOLERANCE_SECONDS, StripeSignatureVerificationError, verifyStripeSignature } from '#shared/dunning/stripe-signature.ts';

const stripe = new Stripe('sk_test_unused');
const SECRET = 'whsec_signature_test';
const payload = JSON.stringify({ id: 'evt_sig', object: 'event', data: { object: { amount_due: 1200 } } }, null, 2);
const now = Math.floor(Date.now() / 1000);
const header = (options: { payload?: string; secret?: string; timestamp?: number } = {}) =>
  stripe.webhooks.generateTestHeaderString({ payload: options.payload ?? payload, secret: options.secret ?? SECRET, timestamp: options.timestamp ?? now });

/** What the SDK answers: the event, or the error's message. */
function sdk(body: string, signature: string, receivedAt = Date.now()): unknown {
  try {
    return stripe.webhooks.constructEvent(body, signature, SECRET, undefined, undefined, receivedAt);
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0]!.trim() };
  }
}

function ours(body: string, signature: string, receivedAt = Date.now()): unknown {
  try {
    return verifyStripeSignature(body, signature, SECRET, { receivedAt });
  } catch (error) {
    expect(error).toBeInstanceOf(StripeSignatureVerificationError);
    return { error: (error as Error).message };
  }
}

describe('verifyStripeSignature', () => {
  it('accepts what the SDK signs and returns the event parsed, as constructEvent does', () => {
    expect(ours(payload, header())).toEqual(JSON.parse(payload));
    expect(ours(payload, header())).toEqual(sdk(payload, header()));
  });

  it.each([
    ['a tampered body', payload.replace('1200', '1'), header()],
    ['another secret', payload, header({ secret: 'whsec_someone_else' })],
    ['a moved timestamp', payload, header().replace(`t=${now}`, `t=${now + 1}`)],
    ['an expired signature', payload, header({ timestamp: now - SIGNATURE_TOLERANCE_SECONDS - 1 })],
    ['no v1 signature', payload, `t=${now},v0=abc`],
    ['no timestamp', payload, header().replace(/t=\d+,/, '')],
    ['garbage', payload, 'not a header'],
    ['a v1 that is not hex', payload, `t=${now},v1=zz`],
  ])('refuses %s with the message the SDK gives', (_what, body, signature) => {
    const expected = sdk(body, signature) as { error: string };

    expect(expected.error).toBeDefined();
    expect(ours(body, signature)).toEqual(expected);
  });

  it('accepts a signature just inside the tolerance window at an explicit receive time, and refuses it a second later', () => {
    const signature = header({ timestamp: now });
    const edge = (now + SIGNATURE_TOLERANCE_SECONDS) * 1000;

    expect(ours(payload, signature, edge)).toEqual(sdk(payload, signature, edge));
    expect(ours(payload, signature, edge + 1000)).toEqual({ error: 'Timestamp outside the tolerance zone' });
    expect(sdk(payload, signature, edge + 1000)).toEqual({ error: 'Timestamp outside the tolerance zone' });
  });

  it('accepts any of several v1 signatures, as while the signing secret is rolled', () => {
    const old = header({ secret: 'whsec_old' }).split(',')[1]!;
    const rolled = `${header()},${old}`;
    const reversed = `t=${now},${old},${header().split(',')[1]}`;

    expect(ours(payload, rolled)).toEqual(sdk(payload, rolled));
    expect(ours(payload, reversed)).toEqual(JSON.parse(payload));
  });

  it('throws a SyntaxError for a correctly signed body that is not JSON, as constructEvent does', () => {
    const body = 'this is not json';
    expect(() => stripe.webhooks.constructEvent(body, header({ payload: body }), SECRET)).toThrow(SyntaxError);
    expect(() => verifyStripeSignature(body, header({ payload: body }), SECRET)).toThrow(SyntaxError);
  });
});
