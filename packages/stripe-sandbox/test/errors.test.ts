import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { startStripeSandbox, type StripeSandbox } from '../src/index.ts';
import { catchError, stripeFor } from './helpers.ts';

describe('stripe sandbox errors', () => {
  let sandbox: StripeSandbox;
  let stripe: Stripe;

  beforeAll(async () => {
    sandbox = await startStripeSandbox();
    stripe = stripeFor(sandbox, { maxNetworkRetries: 0 });
  });
  afterAll(() => sandbox.close());

  it('rejects a live or unknown key with 401, which the SDK maps to StripeAuthenticationError', async () => {
    const live = new Stripe('sk_live_0123456789abcdef', { host: '127.0.0.1', port: sandbox.port, protocol: 'http' });
    const err = await catchError(live.customers.list());
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(err.statusCode).toBe(401);
    expect(err.message).toMatch(/^Invalid API Key provided: sk_live_/);
  });

  it('answers 401 when no Authorization header is sent', async () => {
    const res = await fetch(`${sandbox.url}/v1/customers`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/You did not provide an API key/);
  });

  it('accepts restricted test keys and basic auth like curl -u sk_test_x:', async () => {
    const restricted = new Stripe('rk_test_abc', { host: '127.0.0.1', port: sandbox.port, protocol: 'http' });
    await expect(restricted.customers.list()).resolves.toMatchObject({ object: 'list' });
    const res = await fetch(`${sandbox.url}/v1/customers`, {
      headers: { Authorization: `Basic ${Buffer.from('sk_test_x:').toString('base64')}` },
    });
    expect(res.status).toBe(200);
  });

  it('returns 404 resource_missing naming the id for a missing object', async () => {
    const err = await catchError(stripe.invoices.retrieve('in_123'));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('resource_missing');
    expect(err.param).toBe('id');
    expect(err.message).toBe("No such invoice: 'in_123'");
    expect(err.requestId).toMatch(/^req_/);
  });

  it('returns 404 Unrecognized request URL for endpoints the sandbox does not implement', async () => {
    const err = await catchError(stripe.rawRequest('POST', '/v1/whatever', { a: 'b' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(404);
    expect(err.message).toMatch(/^Unrecognized request URL \(POST: \/v1\/whatever\)/);
    const checkout = await catchError(stripe.checkout.sessions.create({ mode: 'payment' }));
    expect(checkout.statusCode).toBe(404);
  });

  it('returns 400 parameter_missing with the bracketed param name', async () => {
    const customer = await stripe.customers.create({});
    const err = await catchError(stripe.subscriptions.create({ customer: customer.id, items: [{ quantity: 2 }] }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('parameter_missing');
    expect(err.param).toBe('items[0][price]');
    expect(err.message).toBe('Missing required param: items[0][price].');
  });

  it('maps an injected 429 to StripeRateLimitError and 500/503 to StripeAPIError', async () => {
    sandbox.injectFault({ method: 'GET', path: /^\/v1\/customers$/, status: 429, count: 1 });
    const limited = await catchError(stripe.customers.list());
    expect(limited).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(limited.code).toBe('rate_limit');

    sandbox.injectFault({ path: '^/v1/customers$', status: 500, count: 1 });
    expect(await catchError(stripe.customers.list())).toBeInstanceOf(Stripe.errors.StripeAPIError);
    sandbox.injectFault({ path: '^/v1/customers$', status: 503, count: 1 });
    expect(await catchError(stripe.customers.list())).toBeInstanceOf(Stripe.errors.StripeAPIError);

    await expect(stripe.customers.list()).resolves.toMatchObject({ object: 'list' });
  });

  it('replays a saved 500 to every retry that reuses its idempotency key, as Stripe API v1 does', async () => {
    sandbox.injectFault({ method: 'POST', path: /^\/v1\/customers$/, status: 500, count: 1 });

    const first = await catchError(stripe.customers.create({ email: 'saved500@example.com' }, { idempotencyKey: 'key-saved-500' }));
    const replay = await catchError(stripe.customers.create({ email: 'saved500@example.com' }, { idempotencyKey: 'key-saved-500' }));
    const freshKey = await stripe.customers.create({ email: 'saved500@example.com' }, { idempotencyKey: 'key-after-500' });

    expect(first).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(replay).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    expect(freshKey.id).toMatch(/^cus_/);
  });

  it('does not save a 429 under the key: the rate limiter answers before the endpoint runs', async () => {
    sandbox.injectFault({ method: 'POST', path: /^\/v1\/customers$/, status: 429, count: 1 });

    const limited = await catchError(stripe.customers.create({ email: 'limited@example.com' }, { idempotencyKey: 'key-429' }));
    const retried = await stripe.customers.create({ email: 'limited@example.com' }, { idempotencyKey: 'key-429' });

    expect(limited).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(retried.id).toMatch(/^cus_/);
  });

  it('accepts faults over HTTP at POST /_sandbox/faults and reports health', async () => {
    expect((await fetch(`${sandbox.url}/_sandbox/health`)).status).toBe(200);
    const res = await fetch(`${sandbox.url}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ method: 'GET', path: '^/v1/events$', status: 502, count: 1 }),
    });
    expect(res.status).toBe(200);
    const err = await catchError(stripe.events.list());
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err.statusCode).toBe(502);
    await expect(stripe.events.list()).resolves.toMatchObject({ object: 'list' });
  });

  it('sets Request-Id and Stripe-Version on responses', async () => {
    const customer = await stripe.customers.create({});
    expect(customer.lastResponse.requestId).toMatch(/^req_[A-Za-z0-9]{14}$/);
    expect(customer.lastResponse.apiVersion).toBe(Stripe.API_VERSION);
  });
});
