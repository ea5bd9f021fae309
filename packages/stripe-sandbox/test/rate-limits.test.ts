// The limiter on its own, against a clock the test moves: Stripe's documented numbers, the account's
// limit shared by every endpoint, each endpoint's own, and the window sliding on.
import { describe, expect, it } from 'vitest';
import { parseRateLimits, RateLimiter, resolveRateLimits } from '../src/rate-limits.ts';
import { RequestCounter } from '../src/request-stats.ts';

function clock(start = 1_000_000) {
  const state = { now: start };
  return { now: () => state.now, advance: (ms: number) => void (state.now += ms) };
}

function admitMany(limiter: RateLimiter, endpoint: string, n: number): Array<string | undefined> {
  return Array.from({ length: n }, () => limiter.admit(endpoint));
}

describe('RateLimiter', () => {
  it('admits 25 requests a second to one endpoint in test mode and refuses the 26th as endpoint-rate', () => {
    const time = clock();
    const limiter = new RateLimiter({ global: 100, perEndpoint: 25 }, time.now);

    const answers = admitMany(limiter, 'POST /v1/invoices/:id/pay', 26);

    expect(answers.slice(0, 25).every((a) => a === undefined)).toBe(true);
    expect(answers[25]).toBe('endpoint-rate');
  });

  it('counts every endpoint against the account: the test preset refuses the 26th request across endpoints as global-rate', () => {
    const time = clock();
    const limiter = new RateLimiter('test', time.now);

    for (let i = 0; i < 25; i++) expect(limiter.admit(`GET /v1/endpoint-${i}`)).toBeUndefined();

    expect(limiter.admit('GET /v1/customers/:id')).toBe('global-rate');
  });

  it('lets the live preset serve 100 a second across endpoints, still 25 for any one', () => {
    const time = clock();
    const limiter = new RateLimiter('live', time.now);

    const pay = admitMany(limiter, 'POST /v1/invoices/:id/pay', 30);
    const reads = admitMany(limiter, 'GET /v1/invoices/:id', 25);
    const others = ['GET /v1/customers/:id', 'POST /v1/subscriptions/:id', 'GET /v1/events'].flatMap((e) => admitMany(limiter, e, 17));

    expect(pay.filter((a) => a === undefined)).toHaveLength(25);
    expect(pay.filter((a) => a === 'endpoint-rate')).toHaveLength(5);
    expect(reads.every((a) => a === undefined)).toBe(true);
    expect(others.filter((a) => a === undefined)).toHaveLength(50);
    expect(others.at(-1)).toBe('global-rate');
  });

  it('admits again once the requests it counted are a second old (a sliding window, not a calendar second)', () => {
    const time = clock();
    const limiter = new RateLimiter({ global: 2, perEndpoint: 2 }, time.now);
    limiter.admit('GET /v1/events');
    time.advance(600);
    limiter.admit('GET /v1/events');

    time.advance(399);
    const stillFull = limiter.admit('GET /v1/events');
    time.advance(1);
    const firstExpired = limiter.admit('GET /v1/events');
    const full = limiter.admit('GET /v1/events');

    expect(stillFull).toBe('global-rate');
    expect(firstExpired).toBeUndefined();
    expect(full).toBe('global-rate');
  });

  it('does not count refused requests: a client that keeps hammering is admitted as soon as the window frees', () => {
    const time = clock();
    const limiter = new RateLimiter({ global: 1, perEndpoint: 1 }, time.now);
    limiter.admit('GET /v1/events');
    for (let i = 0; i < 10; i++) {
      time.advance(90);
      limiter.admit('GET /v1/events');
    }

    time.advance(100);

    expect(limiter.admit('GET /v1/events')).toBeUndefined();
  });

  it('admits everything when off, and can be switched at run time', () => {
    const time = clock();
    const limiter = new RateLimiter('off', time.now);

    expect(admitMany(limiter, 'GET /v1/events', 500).every((a) => a === undefined)).toBe(true);
    limiter.set({ global: 3, perEndpoint: 3 });
    expect(limiter.current).toEqual({ global: 3, perEndpoint: 3 });
    expect(admitMany(limiter, 'GET /v1/events', 4).at(-1)).toBe('global-rate');
  });
});

describe('rate limit settings', () => {
  it('reads the presets and <global>/<perEndpoint>', () => {
    expect(resolveRateLimits(parseRateLimits('test'))).toEqual({ global: 25, perEndpoint: 25 });
    expect(resolveRateLimits(parseRateLimits('live'))).toEqual({ global: 100, perEndpoint: 25 });
    expect(resolveRateLimits(parseRateLimits('off'))).toBeUndefined();
    expect(parseRateLimits(' 200/50 ')).toEqual({ global: 200, perEndpoint: 50 });
  });

  it('refuses anything else, naming what it takes', () => {
    expect(() => parseRateLimits('fast')).toThrow(/test, live, off, or <global>\/<perEndpoint>.*"fast"/);
    expect(() => parseRateLimits('100')).toThrow(/<global>\/<perEndpoint>/);
    expect(() => parseRateLimits('0/25')).toThrow(/global must be a whole number of requests per second above 0; got 0/);
    expect(() => resolveRateLimits({ global: 100, perEndpoint: 2.5 })).toThrow(/perEndpoint .* got 2.5/);
    expect(() => resolveRateLimits('sometimes' as 'off')).toThrow(/rate limits must be/);
  });
});

describe('RequestCounter', () => {
  it('counts requests per endpoint, the busiest calendar second received and admitted, and 429s by reason', () => {
    const time = clock(5_000);
    const counter = new RequestCounter(time.now);
    for (let i = 0; i < 3; i++) counter.record('POST /v1/invoices/:id/pay');
    counter.record('POST /v1/invoices/:id/pay', 'endpoint-rate');
    counter.record('GET /v1/invoices/:id', 'global-rate');
    time.advance(1000);
    counter.record('GET /v1/invoices/:id');
    counter.record('GET /v1/invoices/:id', 'injected');

    const stats = counter.read();

    expect(stats.total).toEqual({ requests: 7, rateLimited: 3, peakPerSecond: 5, peakAdmittedPerSecond: 3 });
    expect(stats.endpoints['POST /v1/invoices/:id/pay']).toEqual({ requests: 4, rateLimited: 1, peakPerSecond: 4, peakAdmittedPerSecond: 3 });
    expect(stats.endpoints['GET /v1/invoices/:id']).toEqual({ requests: 3, rateLimited: 2, peakPerSecond: 2, peakAdmittedPerSecond: 1 });
    expect(stats.rateLimited).toEqual({ 'endpoint-rate': 1, 'global-rate': 1, injected: 1 });
  });

  it('starts over on reset, from the time of the reset', () => {
    const time = clock(5_000);
    const counter = new RequestCounter(time.now);
    counter.record('GET /v1/events');
    time.advance(2_000);

    counter.reset();

    expect(counter.read()).toEqual({
      since: new Date(7_000).toISOString(),
      total: { requests: 0, rateLimited: 0, peakPerSecond: 0, peakAdmittedPerSecond: 0 },
      endpoints: {},
      rateLimited: {},
    });
  });
});
