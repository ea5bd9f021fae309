// Stripe's documented rate limiter (docs.stripe.com/rate-limits, "Rate limiter"): requests per
// second for the account (100 live, 25 in a sandbox) and per endpoint (25 unless stated otherwise),
// the endpoint's requests counting against both. Pure: the clock is injected.

/** The values of Stripe's `Stripe-Rate-Limited-Reason` header this sandbox can answer with. */
export type RateLimitReason = 'global-rate' | 'endpoint-rate';

export interface RateLimits {
  /** Requests per second for the whole account. */
  global: number;
  /** Requests per second for each endpoint (a method and a route, e.g. `POST /v1/invoices/:id/pay`). */
  perEndpoint: number;
}

export type RateLimitPreset = 'test' | 'live' | 'off';
export type RateLimitSetting = RateLimitPreset | RateLimits;

export const RATE_LIMIT_PRESETS: Record<Exclude<RateLimitPreset, 'off'>, RateLimits> = {
  test: { global: 25, perEndpoint: 25 },
  live: { global: 100, perEndpoint: 25 },
};

export const RATE_LIMITS_SYNTAX = 'test, live, off, or <global>/<perEndpoint> requests per second (e.g. 100/25)';

/** The limits a setting stands for (`undefined`: off); throws naming the bad value. */
export function resolveRateLimits(setting: RateLimitSetting): RateLimits | undefined {
  if (setting === 'off') return undefined;
  if (setting === 'test' || setting === 'live') return { ...RATE_LIMIT_PRESETS[setting] };
  if (typeof setting !== 'object' || setting === null) {
    throw new Error(`rate limits must be ${RATE_LIMITS_SYNTAX}; got ${JSON.stringify(setting)}`);
  }
  for (const field of ['global', 'perEndpoint'] as const) {
    const value = setting[field];
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`rate limits: ${field} must be a whole number of requests per second above 0; got ${JSON.stringify(value)}`);
    }
  }
  return { global: setting.global, perEndpoint: setting.perEndpoint };
}

/** `test`, `live`, `off` or `<global>/<perEndpoint>`, as the CLI and environment variables spell it. */
export function parseRateLimits(text: string): RateLimitSetting {
  const value = text.trim();
  if (value === 'test' || value === 'live' || value === 'off') return value;
  const numbers = /^(\d+)\/(\d+)$/.exec(value);
  if (!numbers) throw new Error(`rate limits must be ${RATE_LIMITS_SYNTAX}; got ${JSON.stringify(text)}`);
  const limits = { global: Number(numbers[1]), perEndpoint: Number(numbers[2]) };
  resolveRateLimits(limits);
  return limits;
}

const WINDOW_MS = 1000;

/**
 * A sliding one-second window per key: a request is admitted when fewer than the limit were admitted
 * in the second before it. Refused requests are not counted (they consume nothing, as Stripe's token
 * buckets do not), so each key keeps at most `limit` timestamps.
 */
class Window {
  private readonly times: number[] = [];

  count(now: number): number {
    while (this.times.length > 0 && this.times[0]! <= now - WINDOW_MS) this.times.shift();
    return this.times.length;
  }

  add(now: number): void {
    this.times.push(now);
  }
}

export class RateLimiter {
  private limits: RateLimits | undefined;
  private global = new Window();
  private readonly endpoints = new Map<string, Window>();

  constructor(
    setting: RateLimitSetting = 'test',
    private readonly now: () => number = Date.now,
  ) {
    this.limits = resolveRateLimits(setting);
  }

  /** The limits in force (`undefined`: off). */
  get current(): RateLimits | undefined {
    return this.limits ? { ...this.limits } : undefined;
  }

  /** Changes the limits; the requests of the last second still count against the new ones. */
  set(setting: RateLimitSetting): void {
    this.limits = resolveRateLimits(setting);
  }

  /**
   * Admits one request to `endpoint` and counts it, or names the limiter that refuses it: the
   * account's first, since an endpoint's requests count against both.
   */
  admit(endpoint: string): RateLimitReason | undefined {
    if (!this.limits) return undefined;
    const now = this.now();
    let window = this.endpoints.get(endpoint);
    if (!window) {
      window = new Window();
      this.endpoints.set(endpoint, window);
    }
    if (this.global.count(now) >= this.limits.global) return 'global-rate';
    if (window.count(now) >= this.limits.perEndpoint) return 'endpoint-rate';
    this.global.add(now);
    window.add(now);
    return undefined;
  }
}
