// The shared request budget (RequestPacer): how a second's budget is spread over its windows, how
// Stripe's endpoints are named, and that a caller waits for room, never goes over, and gives up
// with OverBudgetError. The counter is the port's; dynalite's version is tested in
// test/adapters/request-pacer-dynamodb.test.ts.
import { describe, expect, it, vi } from 'vitest';
import { OverBudgetError, StoreUnavailableError } from '#shared/domain/errors.ts';
import type { RateLimiter } from '#shared/domain/ports.ts';
import { memoryLimiter } from '../fixtures/memory-limiter.ts';
import { RequestPacer, stripeEndpointOf, windowLimit } from '#shared/adapters/request-pacer.ts';
import { stripeBudgetFor } from '#functions/_runtime/pacing.ts';

/** A clock that only moves when the pacer sleeps. */
function virtualTime(start = 1_000_000) {
  let now = start;
  return { now: () => now, sleep: async (ms: number) => void (now += ms), advance: (ms: number) => void (now += ms) };
}

describe('windowLimit', () => {
  it('spreads a second’s budget over its windows so that every second holds the budget, to within one', () => {
    for (const perSecond of [1, 10, 12, 40, 7.5]) {
      const perWindow = Array.from({ length: 50 }, (_, i) => windowLimit(perSecond, 200, i));
      for (let start = 0; start + 5 <= 50; start += 5) {
        const second = perWindow.slice(start, start + 5).reduce((a, b) => a + b, 0);
        expect(second).toBeGreaterThanOrEqual(Math.floor(perSecond));
        expect(second).toBeLessThanOrEqual(Math.ceil(perSecond));
      }
      expect(perWindow.reduce((a, b) => a + b, 0)).toBe(Math.floor(perSecond * 10));
      expect(Math.max(...perWindow) - Math.min(...perWindow)).toBeLessThanOrEqual(1);
    }
  });

  it('gives 12 a second in 200 ms windows as 2s and 3s, never a window of 12', () => {
    expect(Array.from({ length: 5 }, (_, i) => windowLimit(12, 200, i))).toEqual([2, 2, 3, 2, 3]);
  });
});

describe('stripeEndpointOf', () => {
  it('names an endpoint by its method and path template, as Stripe counts its limits', () => {
    expect(stripeEndpointOf('post', '/v1/invoices/in_1MtHbELkdIwHu7ixl4OzzPMv/pay')).toBe('POST /v1/invoices/:id/pay');
    expect(stripeEndpointOf('GET', '/v1/invoices/in_2Zz9YyXxWwVvUu?expand[]=payments')).toBe('GET /v1/invoices/:id');
    expect(stripeEndpointOf('GET', '/v1/customers/cus_NffrFeUfNV2Hib/payment_methods')).toBe('GET /v1/customers/:id/payment_methods');
    expect(stripeEndpointOf('POST', '/v1/test_helpers/test_clocks/clock_1Mr3gW2eZvKYlo2C/advance')).toBe('POST /v1/test_helpers/test_clocks/:id/advance');
    expect(stripeEndpointOf('GET', '/v1/subscriptions')).toBe('GET /v1/subscriptions');
  });
});

describe('RequestPacer', () => {
  it('lets no more than a window’s share through, however many callers ask at once, and makes the rest wait their turn', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const limiter = memoryLimiter();
    const sent: number[] = [];
    // Real setTimeout and Date.now, faked: every caller sleeps on the same clock.
    const pacer = new RequestPacer(limiter, { name: 'stripe', budget: { perSecond: 10, perEndpointPerSecond: 10 }, maxWaitMs: 60_000, windowMs: 200 });

    const all = Promise.all(Array.from({ length: 40 }, async () => {
      await pacer.acquire('POST /v1/invoices/:id/pay');
      sent.push(Date.now());
    }));
    await vi.runAllTimersAsync();
    await all;
    vi.useRealTimers();

    expect(sent).toHaveLength(40);
    // In every one-second span, at most the budget and one window's edge: 1.2 times 10.
    for (const t of sent) expect(sent.filter((s) => s >= t && s < t + 1000).length).toBeLessThanOrEqual(12);
    expect(Math.max(...sent) - Math.min(...sent)).toBeGreaterThanOrEqual(3000);
  });

  it('keeps each endpoint to its own budget inside the account’s', async () => {
    const limiter = memoryLimiter();
    const time = virtualTime();
    const pacer = new RequestPacer(limiter, { name: 'stripe', budget: { perSecond: 40, perEndpointPerSecond: 10 }, maxWaitMs: 0, windowMs: 1000, ...time, random: () => 0 });

    const tries = await Promise.allSettled([
      ...Array.from({ length: 15 }, () => pacer.acquire('POST /v1/invoices/:id/pay')),
      ...Array.from({ length: 15 }, () => pacer.acquire('GET /v1/invoices/:id')),
    ]);

    const passed = tries.filter((t) => t.status === 'fulfilled').length;
    expect(passed).toBe(20);
    expect(tries.filter((t) => t.status === 'rejected').every((t) => (t as PromiseRejectedResult).reason instanceof OverBudgetError)).toBe(true);
  });

  it('gives up with OverBudgetError, naming the budget and the endpoint, once waiting would pass its limit', async () => {
    const time = virtualTime();
    const full: RateLimiter = { take: async () => false };
    const pacer = new RequestPacer(full, { name: 'stripe', budget: { perSecond: 10, perEndpointPerSecond: 5 }, maxWaitMs: 3000, windowMs: 200, ...time, random: () => 0.5 });

    const error = await pacer.acquire('POST /v1/invoices/:id/pay').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OverBudgetError);
    expect((error as Error).message).toBe('the stripe request budget (10/s, 5/s per endpoint) had no room for POST /v1/invoices/:id/pay within 3000 ms');
    expect(time.now() - 1_000_000).toBeLessThanOrEqual(3000);
  });

  it('reads DynamoDB throttling the counter as “not now”, and waits instead of failing the call', async () => {
    const time = virtualTime();
    let calls = 0;
    const throttledOnce: RateLimiter = {
      take: async () => {
        calls++;
        if (calls === 1) throw new StoreUnavailableError('DynamoDB unavailable (ThrottlingException)');
        return true;
      },
    };
    const pacer = new RequestPacer(throttledOnce, { name: 'ses', budget: { perSecond: 10 }, maxWaitMs: 5000, ...time, random: () => 0 });

    await pacer.acquire();

    expect(calls).toBe(2);
    expect(time.now()).toBeGreaterThan(1_000_000);
  });

  it('lets any other failure of the counter through', async () => {
    const broken: RateLimiter = { take: async () => Promise.reject(new Error('AccessDeniedException: not authorized to perform dynamodb:UpdateItem')) };
    const pacer = new RequestPacer(broken, { name: 'stripe', budget: { perSecond: 10 }, maxWaitMs: 5000 });

    await expect(pacer.acquire('GET /v1/invoices/:id')).rejects.toThrow(/AccessDenied/);
  });

  it('refuses a budget of zero or less', () => {
    expect(() => new RequestPacer(memoryLimiter(), { name: 'stripe', budget: { perSecond: 0 }, maxWaitMs: 1 })).toThrow(/above 0/);
    expect(() => new RequestPacer(memoryLimiter(), { name: 'stripe', budget: { perSecond: 5, perEndpointPerSecond: -1 }, maxWaitMs: 1 })).toThrow(/per endpoint must be above 0/);
  });
});

describe('stripeBudgetFor', () => {
  it('keeps half of Stripe’s limits or less by default, by the key’s mode: live 35/8, test 8/8', () => {
    expect(stripeBudgetFor('sk_live_abc', {})).toEqual({ perSecond: 35, perEndpointPerSecond: 8 });
    expect(stripeBudgetFor('rk_live_abc', {})).toEqual({ perSecond: 35, perEndpointPerSecond: 8 });
    expect(stripeBudgetFor('sk_test_abc', {})).toEqual({ perSecond: 8, perEndpointPerSecond: 8 });
  });

  it('takes DUNNING_STRIPE_BUDGET, and without a figure per endpoint keeps the default one, never above the account’s', () => {
    expect(stripeBudgetFor('sk_live_abc', { DUNNING_STRIPE_BUDGET: '60/20' })).toEqual({ perSecond: 60, perEndpointPerSecond: 20 });
    expect(stripeBudgetFor('sk_live_abc', { DUNNING_STRIPE_BUDGET: '20' })).toEqual({ perSecond: 20, perEndpointPerSecond: 8 });
    expect(stripeBudgetFor('sk_test_abc', { DUNNING_STRIPE_BUDGET: '4' })).toEqual({ perSecond: 4, perEndpointPerSecond: 4 });
  });
});
