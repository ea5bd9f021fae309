// API versions as Stripe handles them (https://docs.stripe.com/api/versioning,
// https://docs.stripe.com/webhooks/versioning): a request may name a known version in
// `Stripe-Version`, which the response echoes; an unknown one is refused with a 400
// invalid_request_error "Invalid Stripe API version: …" (as quoted in stripe-samples/link#58 and
// beam-community/stripity-stripe#613); events are rendered at the webhook endpoint's `api_version`,
// or the account's default when the endpoint has none, whatever version the request named.
import { afterEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { KNOWN_API_VERSIONS, startStripeSandbox } from '../src/index.ts';
import { catchError, startReceiver, stripeFor, WEBHOOK_SECRET } from './helpers.ts';

describe('stripe sandbox API versions', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('refuses an unknown Stripe-Version with a 400 invalid_request_error', async () => {
    const sandbox = await startStripeSandbox();
    cleanups.push(() => sandbox.close());
    const stripe = stripeFor(sandbox, { apiVersion: '2099-01-01.nonesuch' as Stripe.LatestApiVersion, maxNetworkRetries: 0 });
    const err = await catchError(stripe.customers.create({ email: 'v@example.com' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(400);
    expect(err.message).toBe('Invalid Stripe API version: 2099-01-01.nonesuch');
    expect(err.code).toBeUndefined();
    // Nothing was created.
    expect((await stripeFor(sandbox).customers.list()).data).toHaveLength(0);
  });

  it('honours and echoes a known older version', async () => {
    const sandbox = await startStripeSandbox();
    cleanups.push(() => sandbox.close());
    expect(KNOWN_API_VERSIONS.has('2024-06-20')).toBe(true);
    const stripe = stripeFor(sandbox, { apiVersion: '2024-06-20' as Stripe.LatestApiVersion });
    const customer = await stripe.customers.create({ email: 'old@example.com' });
    expect(customer.lastResponse.apiVersion).toBe('2024-06-20');
  });

  it("stamps events with the endpoint's api_version, not the request's", async () => {
    const receiver = await startReceiver();
    const sandbox = await startStripeSandbox({
      webhook: { url: receiver.url, secret: WEBHOOK_SECRET, apiVersion: '2024-09-30.acacia' },
      delivery: { mode: 'ordered' },
    });
    cleanups.push(() => receiver.close(), () => sandbox.close());
    await stripeFor(sandbox, { apiVersion: '2024-06-20' as Stripe.LatestApiVersion }).customers.create({ email: 'e@example.com' });
    await sandbox.idle();
    expect(receiver.deliveries.map((d) => d.event.api_version)).toEqual(['2024-09-30.acacia']);
  });

  it("stamps events with the account's default version when the endpoint has none", async () => {
    const receiver = await startReceiver();
    const sandbox = await startStripeSandbox({
      webhook: { url: receiver.url, secret: WEBHOOK_SECRET },
      delivery: { mode: 'ordered' },
      defaultApiVersion: '2025-03-31.basil',
    });
    cleanups.push(() => receiver.close(), () => sandbox.close());
    // A request without Stripe-Version is answered at the account's default.
    const response = await fetch(`${sandbox.url}/v1/customers`, { method: 'POST', headers: { authorization: 'Bearer sk_test_x' } });
    expect(response.headers.get('stripe-version')).toBe('2025-03-31.basil');
    await stripeFor(sandbox).customers.create({ email: 'd@example.com' });
    await sandbox.idle();
    expect(receiver.deliveries.map((d) => d.event.api_version)).toEqual(['2025-03-31.basil', '2025-03-31.basil']);
  });

  it('refuses an endpoint pinned to an unknown version', async () => {
    const sandbox = await startStripeSandbox();
    cleanups.push(() => sandbox.close());
    expect(() => sandbox.setWebhook({ url: 'http://127.0.0.1:9/', secret: WEBHOOK_SECRET, apiVersion: '2001-01-01' })).toThrow(/Invalid Stripe API version/);
  });
});
