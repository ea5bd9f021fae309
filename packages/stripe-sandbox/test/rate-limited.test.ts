// Stripe's rate limits over the wire, through the official SDK: a burst past them is refused as
// Stripe refuses it (429, `rate_limit`, `Stripe-Rate-Limited-Reason`), never saved under an
// idempotency key, and counted where a benchmark reads it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { rateLimitWaitingHttpClient, startStripeSandbox, type StripeSandbox, type StripeSandboxOptions } from '../src/index.ts';
import { catchError, stripeFor } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let sandbox: StripeSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: StripeSandboxOptions = {}): Promise<{ sandbox: StripeSandbox; stripe: Stripe }> {
  sandbox = await startStripeSandbox(options);
  return { sandbox, stripe: stripeFor(sandbox, { maxNetworkRetries: 0, httpClient: Stripe.createNodeHttpClient() }) };
}

/** Settles every call, sorting the answers into the ones served and the 429s (by their reason header). */
async function burst(calls: Array<Promise<unknown>>): Promise<{ served: number; refused: Array<string | undefined> }> {
  const results = await Promise.allSettled(calls);
  const refused: Array<string | undefined> = [];
  let served = 0;
  for (const result of results) {
    if (result.status === 'fulfilled') served += 1;
    else if (result.reason instanceof Stripe.errors.StripeRateLimitError) refused.push(result.reason.headers?.['stripe-rate-limited-reason']);
    else throw result.reason;
  }
  return { served, refused };
}

describe('stripe sandbox rate limits', () => {
  it('enforces test-mode limits by default: a burst is refused past 25 requests a second', async () => {
    const { sandbox, stripe } = await start();

    const { served, refused } = await burst(Array.from({ length: 40 }, () => stripe.customers.list({ limit: 1 })));

    expect(sandbox.rateLimits()).toEqual({ global: 25, perEndpoint: 25 });
    expect(refused.length).toBeGreaterThan(0);
    expect(served).toBeLessThanOrEqual(25 * 2); // even a burst spread over two seconds gets no more
    expect(sandbox.requestStats().total.peakAdmittedPerSecond).toBeLessThanOrEqual(25);
  });

  it("answers Stripe's 429: rate_limit, its message, the limiter in Stripe-Rate-Limited-Reason, and the usual headers", async () => {
    const { stripe } = await start({ rateLimits: { global: 1, perEndpoint: 1 } });
    await stripe.customers.list();

    const err = await catchError(stripe.customers.list());
    const raw = await fetch(`${sandbox!.url}/v1/customers`, { headers: { Authorization: 'Bearer sk_test_x' } });

    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(err.statusCode).toBe(429);
    expect(err.code).toBe('rate_limit');
    expect(err.type).toBe('StripeRateLimitError');
    expect(err.message).toBe('Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.');
    expect(err.requestId).toMatch(/^req_/);
    expect(err.headers?.['stripe-rate-limited-reason']).toBe('global-rate');
    expect(raw.status).toBe(429);
    expect(raw.headers.get('stripe-version')).toBe(Stripe.API_VERSION);
    expect(raw.headers.get('request-id')).toMatch(/^req_/);
    expect(((await raw.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });

  it('limits each endpoint (method and route) to 25 a second, reads of different ids sharing one limit, while another endpoint is served', async () => {
    const { stripe } = await start({ rateLimits: 'off' });
    const customers = await Promise.all(Array.from({ length: 5 }, () => stripe.customers.create({})));
    sandbox!.setRateLimits({ global: 100, perEndpoint: 3 });

    const reads = burst(customers.map((c) => stripe.customers.retrieve(c.id)));
    const other = burst([stripe.invoices.list()]);

    expect(await reads).toEqual({ served: 3, refused: ['endpoint-rate', 'endpoint-rate'] });
    expect(await other).toEqual({ served: 1, refused: [] });
  });

  it('lets the live preset serve 100 a second for the account, still refusing one endpoint past 25', async () => {
    const { sandbox, stripe } = await start({ rateLimits: 'live' });

    const reads = await burst(Array.from({ length: 30 }, () => stripe.customers.list({ limit: 1 })));

    expect(sandbox.rateLimits()).toEqual({ global: 100, perEndpoint: 25 });
    expect(reads.refused.length).toBeGreaterThanOrEqual(5);
    expect(new Set(reads.refused)).toEqual(new Set(['endpoint-rate']));
  });

  it('never saves a 429 under the idempotency key: the retry a second later creates the customer', async () => {
    const { stripe } = await start({ rateLimits: { global: 1, perEndpoint: 1 } });
    await stripe.customers.list();

    const refused = await catchError(stripe.customers.create({ email: 'burst@example.com' }, { idempotencyKey: 'key-rate-limited' }));
    await sleep(1_050);
    const retried = await stripe.customers.create({ email: 'burst@example.com' }, { idempotencyKey: 'key-rate-limited' });

    expect(refused).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(retried.id).toMatch(/^cus_/);
    expect(retried.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('serves again once the second has passed', async () => {
    const { stripe } = await start({ rateLimits: { global: 2, perEndpoint: 2 } });
    await burst([stripe.customers.list(), stripe.customers.list(), stripe.customers.list()]);

    await sleep(1_050);

    await expect(stripe.customers.list()).resolves.toMatchObject({ object: 'list' });
  });

  it('never limits test clocks, control routes or hosted pages, and the renewals a clock runs are not API requests', async () => {
    const { stripe } = await start({ rateLimits: { global: 1, perEndpoint: 1 } });
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: 1_700_000_000 });
    for (let i = 1; i <= 4; i++) await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: 1_700_000_000 + i * 86_400 });
    await stripe.customers.list();

    const control = await Promise.all(Array.from({ length: 5 }, () => fetch(`${sandbox!.url}/_sandbox/health`)));
    const page = await fetch(`${sandbox!.url}/i/in_missing`);
    const api = await catchError(stripe.customers.list());

    expect(control.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(page.status).not.toBe(429);
    expect(api).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(Object.keys(sandbox!.requestStats().endpoints)).toEqual(['GET /v1/customers']);
  });

  it('switches at run time over POST /_sandbox/rate_limits, by preset or numbers, and refuses a bad body', async () => {
    const { stripe } = await start();
    const post = (body: unknown) => fetch(`${sandbox!.url}/_sandbox/rate_limits`, { method: 'POST', body: JSON.stringify(body) });

    const live = await post({ preset: 'live' });
    const numbers = await post({ global: 2, perEndpoint: 1 });
    const current = await fetch(`${sandbox!.url}/_sandbox/rate_limits`);
    const limited = await burst([stripe.customers.list(), stripe.customers.list()]);
    const off = await post({ preset: 'off' });
    const unlimited = await burst(Array.from({ length: 60 }, () => stripe.invoices.list({ limit: 1 })));
    const bad = await post({ global: 0, perEndpoint: 25 });
    const unknown = await post({ preset: 'fast' });

    expect(await live.json()).toEqual({ limits: { global: 100, perEndpoint: 25 } });
    expect(await numbers.json()).toEqual({ limits: { global: 2, perEndpoint: 1 } });
    expect(await current.json()).toEqual({ limits: { global: 2, perEndpoint: 1 } });
    expect(limited).toEqual({ served: 1, refused: ['endpoint-rate'] });
    expect(await off.json()).toEqual({ limits: null });
    expect(unlimited).toEqual({ served: 60, refused: [] });
    expect(bad.status).toBe(400);
    expect(unknown.status).toBe(400);
    expect(sandbox!.rateLimits()).toBeUndefined();
  });

  it('refuses a bad rateLimits option before it takes the port, naming the field', async () => {
    await expect(startStripeSandbox({ rateLimits: { global: 0, perEndpoint: 25 } })).rejects.toThrow(
      /global must be a whole number of requests per second above 0; got 0/,
    );
    await expect(startStripeSandbox({ rateLimits: 'fast' as 'test' })).rejects.toThrow(/test, live, off, or <global>\/<perEndpoint>/);
  });
});

describe('stripe-sandbox --rate-limits', () => {
  it('refuses a value it cannot read with exit code 2, naming what it takes', () => {
    const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
    const run = (value: string) => spawnSync(process.execPath, ['--import', 'tsx', cli, '--port', '0', '--rate-limits', value], { encoding: 'utf8', timeout: 30_000 });

    const words = run('fast');
    const zero = run('0/25');

    expect(words.status).toBe(2);
    expect(words.stderr).toContain('--rate-limits: rate limits must be test, live, off, or <global>/<perEndpoint> requests per second (e.g. 100/25); got "fast"');
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain('--rate-limits: rate limits: global must be a whole number of requests per second above 0; got 0');
  });
});

describe('rateLimitWaitingHttpClient', () => {
  it("lets a harness's burst through by waiting out the limiter, while an injected 429 still reaches the caller", async () => {
    const { sandbox } = await start({ rateLimits: { global: 2, perEndpoint: 2 } });
    const patient = stripeFor(sandbox, { maxNetworkRetries: 0, httpClient: rateLimitWaitingHttpClient() });

    const created = await Promise.all(Array.from({ length: 6 }, (_, i) => patient.customers.create({ email: `c${i}@example.com` })));
    await sleep(1_050);
    sandbox.injectFault({ method: 'GET', path: '^/v1/customers$', status: 429, count: 1 });
    const injected = await catchError(patient.customers.list());

    expect(new Set(created.map((c) => c.id)).size).toBe(6);
    expect(sandbox.requestStats().rateLimited['global-rate']).toBeGreaterThan(0);
    expect(injected).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
  });

  it('hands the SDK the last 429 once its attempts are spent, and refuses bad options', async () => {
    const { sandbox, stripe } = await start({ rateLimits: { global: 1, perEndpoint: 1 } });
    const impatient = stripeFor(sandbox, { maxNetworkRetries: 0, httpClient: rateLimitWaitingHttpClient({ attempts: 0 }) });
    await stripe.customers.list();

    expect(await catchError(impatient.customers.list())).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(() => rateLimitWaitingHttpClient({ attempts: -1 })).toThrow(/attempts must be a whole number/);
    expect(() => rateLimitWaitingHttpClient({ maxDelayMs: 0 })).toThrow(/maxDelayMs must be above 0/);
  });
});

describe('stripe sandbox request statistics', () => {
  it('counts API requests per endpoint route, the busiest second, and 429s by reason, at GET /_sandbox/requests', async () => {
    const { sandbox, stripe } = await start({ rateLimits: 'off' });
    const customers = await Promise.all([stripe.customers.create({}), stripe.customers.create({})]);
    sandbox.resetRequestStats();
    sandbox.setRateLimits({ global: 100, perEndpoint: 2 });
    sandbox.injectFault({ method: 'GET', path: '^/v1/invoices$', status: 429, count: 1 });

    await burst([...customers, customers[0]!].map((c) => stripe.customers.retrieve(c.id)));
    await catchError(stripe.invoices.list());
    const stats = (await (await fetch(`${sandbox.url}/_sandbox/requests`)).json()) as ReturnType<StripeSandbox['requestStats']>;

    expect(stats.endpoints).toEqual({
      'GET /v1/customers/:id': { requests: 3, rateLimited: 1, peakPerSecond: expect.any(Number), peakAdmittedPerSecond: 2 },
      'GET /v1/invoices': { requests: 1, rateLimited: 1, peakPerSecond: 1, peakAdmittedPerSecond: 0 },
    });
    expect(stats.total).toMatchObject({ requests: 4, rateLimited: 2 });
    expect(stats.rateLimited).toEqual({ 'endpoint-rate': 1, injected: 1 });
    expect(sandbox.requestStats()).toEqual(stats);
  });

  it('starts over on DELETE /_sandbox/requests or GET ?reset=true, which answers the figures before the reset', async () => {
    const { sandbox, stripe } = await start();
    await stripe.customers.list();

    const before = (await (await fetch(`${sandbox.url}/_sandbox/requests?reset=true`)).json()) as { total: { requests: number } };
    const afterReset = sandbox.requestStats().total.requests;
    await stripe.customers.list();
    await fetch(`${sandbox.url}/_sandbox/requests`, { method: 'DELETE' });

    expect(before.total.requests).toBe(1);
    expect(afterReset).toBe(0);
    expect(sandbox.requestStats().endpoints).toEqual({});
  });
});
