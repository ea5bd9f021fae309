// A request budget shared by every function: before a request to Stripe (or an email to SES), take
// a place in the current window of a counter on the dunning table, for the whole account and for
// the request's endpoint (two counts on one item, taken in one conditional write). Every function, in every container, counts on the same items, so the
// budget holds however many Lambdas run at once: DynamoDB applies conditional writes to one item
// one at a time, and a window's counter never goes past its limit. What many callers cost is the
// refused writes, which the backoff below spreads; under a storm DynamoDB may throttle the hot item,
// which this reads as "not now": contention can only slow us down, never let a request through.
//
// Written here rather than taken from a library: the rate limiters for Node keep their counts in
// process memory or Redis; none counts on DynamoDB, and Powertools has no rate limiter.
import { OverBudgetError, StoreUnavailableError } from '../domain/errors.ts';
import type { RateLimiter, SubCounter } from '../domain/ports.ts';

/** Requests per second: for the whole account, and for each endpoint (a method and a path template). */
export interface RequestBudget {
  perSecond: number;
  /** Absent: only the account's budget applies (email has no endpoints). */
  perEndpointPerSecond?: number;
}

export interface PacerOptions {
  /** What is paced, for the counters' keys and the errors: `stripe`, `ses`. */
  name: string;
  budget: RequestBudget;
  /** How long one call may wait for room before it gives up with OverBudgetError. */
  maxWaitMs: number;
  /**
   * The counting window. Short windows keep a burst at a window's edge small: any one second spans
   * at most 1000/windowMs + 1 windows, so at most (1 + windowMs/1000) times the budget goes out in
   * it (1.2 times at 200 ms), where a one-second window would allow twice the budget.
   */
  windowMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_WINDOW_MS = 200;
/** The longest pause between two tries for room: a waiting caller looks at least this often. */
const MAX_BACKOFF_MS = 2_000;

/**
 * How many requests window `index` of `windowMs` may hold at `perSecond`: the budget spread over the
 * windows so that every run of windows holds what its length allows, to within one request
 * (12 a second in 200 ms windows: 2, 3, 2, 3, 2).
 */
export function windowLimit(perSecond: number, windowMs: number, index: number): number {
  const perWindow = (perSecond * windowMs) / 1000;
  return Math.floor((index + 1) * perWindow + 1e-9) - Math.floor(index * perWindow + 1e-9);
}

/**
 * The endpoint of a Stripe API request, as Stripe counts them: the method and the path with object
 * ids replaced, so `GET /v1/invoices/in_1Mt…` and `GET /v1/invoices/in_2Ab…` are one endpoint
 * (docs.stripe.com/rate-limits: "each named API operation is a separate endpoint"). An id is a
 * segment of a lowercase prefix, one underscore and at least 8 letters or digits (`in_1MtHbE…`,
 * `cus_NffrFeUfNV2Hib`); the API's nouns (`payment_methods`, `test_helpers`) never look like one.
 */
export function stripeEndpointOf(method: string, path: string): string {
  const bare = path.split('?')[0] ?? path;
  const template = bare
    .split('/')
    .map((segment) => (/^[a-z]+_[A-Za-z0-9]{8,}$/.test(segment) ? ':id' : segment))
    .join('/');
  return `${method.toUpperCase()} ${template}`;
}

export class RequestPacer {
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly options: PacerOptions,
  ) {
    const { perSecond, perEndpointPerSecond } = options.budget;
    if (!(perSecond > 0)) throw new RangeError(`${options.name} budget must be above 0 requests per second, not ${perSecond}`);
    if (perEndpointPerSecond !== undefined && !(perEndpointPerSecond > 0)) {
      throw new RangeError(`${options.name} budget per endpoint must be above 0 requests per second, not ${perEndpointPerSecond}`);
    }
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  /**
   * Waits until `endpoint` (and the account) has room in the current window and takes it, or throws
   * OverBudgetError after `maxWaitMs`. The account's place and the endpoint's are one write on one
   * item: both or neither.
   */
  async acquire(endpoint?: string): Promise<void> {
    const started = this.now();
    const { name, budget } = this.options;
    for (let attempt = 0; ; attempt++) {
      const now = this.now();
      const index = Math.floor(now / this.windowMs);
      if (await this.roomIn(index, endpoint)) return;
      const nextWindow = (index + 1) * this.windowMs - now;
      // The next window, then further and further apart (with jitter, so the callers that missed
      // one window do not all come back at the start of the next).
      const backoff = Math.min(MAX_BACKOFF_MS, this.windowMs * 2 ** Math.min(attempt, 4));
      const delay = nextWindow + Math.floor(this.random() * backoff);
      if (this.now() + delay - started > this.options.maxWaitMs) {
        const limits = `${budget.perSecond}/s${budget.perEndpointPerSecond !== undefined ? `, ${budget.perEndpointPerSecond}/s per endpoint` : ''}`;
        throw new OverBudgetError(`the ${name} request budget (${limits}) had no room${endpoint ? ` for ${endpoint}` : ''} within ${this.options.maxWaitMs} ms`);
      }
      await this.sleep(delay);
    }
  }

  private async roomIn(index: number, endpoint: string | undefined): Promise<boolean> {
    const { name, budget } = this.options;
    const at = new Date(index * this.windowMs);
    const account = windowLimit(budget.perSecond, this.windowMs, index);
    if (endpoint !== undefined && budget.perEndpointPerSecond !== undefined) {
      const own = windowLimit(budget.perEndpointPerSecond, this.windowMs, index);
      if (own <= 0) return false;
      return this.take(`pace:${name}`, account, at, { name: endpoint, limit: own });
    }
    return this.take(`pace:${name}`, account, at);
  }

  private async take(key: string, limit: number, at: Date, within?: SubCounter): Promise<boolean> {
    // A window the spread gives no place (a budget under one per window) is full without asking.
    if (limit <= 0) return false;
    try {
      return await this.limiter.take(key, limit, this.windowMs, at, within);
    } catch (error) {
      // DynamoDB throttling the hot counter (or briefly unavailable): not now, try again later.
      if (error instanceof StoreUnavailableError) return false;
      throw error;
    }
  }
}
