// The request budget against the Stripe sandbox's enforced limits (test mode: 25 a second for the
// account and for each endpoint): a burst of the product's own requests through the budget, counted
// on dynalite as the functions count it, meets no 429; the same burst without it does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRateLimiter } from '#shared/adapters/dynamodb-rate-limiter.ts';
import { RequestPacer } from '#shared/adapters/request-pacer.ts';
import { createStripeClient, StripeGateway } from '#shared/adapters/stripe-gateway.ts';
import { STRIPE_BUDGET_DEFAULTS } from '#shared/config.ts';
import { startStripeSandbox, type StripeSandbox } from '@stripe-dunning/stripe-sandbox';
import { startLocalTable, TABLE_NAME, type LocalTable } from './helpers.ts';

const API_KEY = 'sk_test_budget';
const BURST = 60;

let sandbox: StripeSandbox;
let table: LocalTable;
let customerIds: string[];

beforeAll(async () => {
  sandbox = await startStripeSandbox({ port: 0, rateLimits: 'off' });
  table = await startLocalTable();
  // Setup, unlimited: a few customers.
  const stripe = createStripeClient({ apiKey: API_KEY, apiBase: sandbox.url, maxNetworkRetries: 0 });
  customerIds = [];
  for (let i = 0; i < 3; i++) customerIds.push((await stripe.customers.create({ email: `budget${i}@example.com` })).id);
  sandbox.setRateLimits('test');
});

afterAll(async () => {
  await sandbox?.close();
  await table?.close();
});

function gateway(pacer?: RequestPacer): StripeGateway {
  return new StripeGateway(createStripeClient({ apiKey: API_KEY, apiBase: sandbox.url, maxNetworkRetries: 0, ...(pacer ? { pacer } : {}) }));
}

const burst = (g: StripeGateway) => Promise.allSettled(Array.from({ length: BURST }, (_, i) => g.getCustomerContact(customerIds[i % customerIds.length]!)));

describe('the Stripe request budget against the sandbox’s limits', () => {
  it('meets 429s without it: the limits are real', async () => {
    sandbox.resetRequestStats();

    const results = await burst(gateway());

    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => (r as PromiseRejectedResult).reason.name === 'StripeRateLimitedError')).toBe(true);
    expect(sandbox.requestStats().total.rateLimited).toBeGreaterThan(0);
  });

  it('sends the whole burst through the default test-mode budget with no 429, never above the limits in any second', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    sandbox.resetRequestStats();
    // Two pacers on one table: two functions in two containers, counting on the same items.
    const limiter = new DynamoRateLimiter(table.documentClient, TABLE_NAME);
    const pacers = [0, 1].map(() => new RequestPacer(limiter, { name: 'stripe', budget: { ...STRIPE_BUDGET_DEFAULTS.test }, maxWaitMs: 30_000 }));
    const [a, b] = pacers.map((p) => gateway(p));
    const started = Date.now();

    const results = [...(await Promise.all([burst(a!), burst(b!)]))].flat();

    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const stats = sandbox.requestStats();
    expect(stats.total.rateLimited).toBe(0);
    expect(stats.total.requests).toBe(2 * BURST);
    // Never above the sandbox's 25 in any second. (Taken at 8 a second, at most 1.2 times that in any
    // one; a stalled process can still deliver what it took over a longer span at once, which is why
    // the budget stays well under the limit: on a loaded machine, up to 20 in one second.)
    expect(stats.total.peakPerSecond).toBeLessThanOrEqual(25);
    // On average, the budget: 120 requests at 8 a second take about 15 seconds.
    expect(Date.now() - started).toBeGreaterThanOrEqual(13_000);
  }, 90_000);
});
