// What the API was asked, per endpoint and per second, and the 429s it answered by reason: for a
// benchmark to hold a burst against Stripe's limits. Aggregated per calendar second, never kept per
// request, so memory is bounded by the number of endpoints. Pure: the clock is injected.

/** Why a 429 was answered: a limiter (`Stripe-Rate-Limited-Reason`), or a fault a test injected. */
export type RefusalReason = 'global-rate' | 'endpoint-rate' | 'injected';

export interface EndpointStats {
  /** Requests received, including those answered 429. */
  requests: number;
  /** Of those, answered 429. */
  rateLimited: number;
  /** The most requests received in one calendar second. */
  peakPerSecond: number;
  /** The most requests admitted (not answered 429) in one calendar second. */
  peakAdmittedPerSecond: number;
}

export interface RequestStats {
  /** When counting started (the sandbox's start or the last reset), ISO 8601. */
  since: string;
  total: EndpointStats;
  /** By endpoint: method and route, e.g. `POST /v1/invoices/:id/pay`. */
  endpoints: Record<string, EndpointStats>;
  /** 429s answered, by reason. */
  rateLimited: Partial<Record<RefusalReason, number>>;
}

class Counter {
  requests = 0;
  rateLimited = 0;
  peakPerSecond = 0;
  peakAdmittedPerSecond = 0;
  private second = -1;
  private inSecond = 0;
  private admittedInSecond = 0;

  count(second: number, admitted: boolean): void {
    if (second !== this.second) {
      this.second = second;
      this.inSecond = 0;
      this.admittedInSecond = 0;
    }
    this.requests += 1;
    this.inSecond += 1;
    this.peakPerSecond = Math.max(this.peakPerSecond, this.inSecond);
    if (admitted) {
      this.admittedInSecond += 1;
      this.peakAdmittedPerSecond = Math.max(this.peakAdmittedPerSecond, this.admittedInSecond);
    } else {
      this.rateLimited += 1;
    }
  }

  read(): EndpointStats {
    const { requests, rateLimited, peakPerSecond, peakAdmittedPerSecond } = this;
    return { requests, rateLimited, peakPerSecond, peakAdmittedPerSecond };
  }
}

export class RequestCounter {
  private since: number;
  private total = new Counter();
  private endpoints = new Map<string, Counter>();
  private refusals = new Map<RefusalReason, number>();

  constructor(private readonly now: () => number = Date.now) {
    this.since = now();
  }

  /** Counts one API request to `endpoint`, refused with a 429 for `refused` if given. */
  record(endpoint: string, refused?: RefusalReason): void {
    const second = Math.floor(this.now() / 1000);
    let counter = this.endpoints.get(endpoint);
    if (!counter) {
      counter = new Counter();
      this.endpoints.set(endpoint, counter);
    }
    counter.count(second, refused === undefined);
    this.total.count(second, refused === undefined);
    if (refused) this.refusals.set(refused, (this.refusals.get(refused) ?? 0) + 1);
  }

  read(): RequestStats {
    return {
      since: new Date(this.since).toISOString(),
      total: this.total.read(),
      endpoints: Object.fromEntries([...this.endpoints].sort(([a], [b]) => a.localeCompare(b)).map(([name, c]) => [name, c.read()])),
      rateLimited: Object.fromEntries(this.refusals),
    };
  }

  reset(): void {
    this.since = this.now();
    this.total = new Counter();
    this.endpoints = new Map();
    this.refusals = new Map();
  }
}
