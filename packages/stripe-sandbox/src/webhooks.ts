// Delivers events to the configured endpoint the way Stripe does: signed JSON POSTs after the API
// call that caused them, in no guaranteed order, sometimes twice, and retried for hours when the
// endpoint fails (https://docs.stripe.com/webhooks#event-ordering, #handle-duplicate-events,
// #automatic-retries). An `ordered` mode keeps the idealised delivery some tests need.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

export interface WebhookTarget {
  url: string;
  secret: string;
  /**
   * The endpoint's `enabled_events`, as on a Stripe webhook endpoint: only these types are sent
   * (every event is still recorded and listed by /v1/events). Omitted or `['*']`: every type.
   */
  enabledEvents?: readonly string[];
  /**
   * The endpoint's `api_version`: the version its events are rendered at. Omitted: the account's
   * default version (https://docs.stripe.com/webhooks/versioning).
   */
  apiVersion?: string;
}

/** Redelivery in `ordered` mode: attempts per event and a doubling backoff, in wall-clock ms. */
export interface RetryPolicy {
  /** Total attempts per event, the first included. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialDelayMs: 100, maxDelayMs: 5_000 };

/**
 * How events reach the endpoint.
 * - `stripe` (the default): as Stripe delivers. Each event waits a random latency before it is
 *   sent and several are in flight at once, so events created close together arrive in any order;
 *   some are delivered twice; a failed delivery is retried on Stripe's sandbox schedule, hours
 *   later in Stripe time (`hourMs`).
 * - `ordered`: one at a time, in creation order, never twice, retried at once with a short backoff
 *   (`RetryPolicy`). For tests that check a sequence of events, not for the product's guarantees.
 */
export type DeliveryMode = 'stripe' | 'ordered';

export interface DeliveryOptions {
  mode: DeliveryMode;
  /** Seeds the shuffle and the duplicates, so a run can be replayed. */
  seed: number;
  /**
   * Wall-clock milliseconds one Stripe hour lasts, for retries. Stripe retries on real time, not on
   * a test clock, so a frozen test clock stays frozen while its events are retried; the local
   * runtime sets this to its compressed policy day / 24, so "3 hours later" is 3 hours of policy time.
   */
  hourMs: number;
  /** Hours after each failed attempt that the event is sent again; after the last, Stripe gives up. */
  retryAfterHours: readonly number[];
  /**
   * The least wall-clock ms before a retry. Stripe's hours dwarf any endpoint's answer time; once
   * hours are compressed to milliseconds they no longer do, and an endpoint still starting up (a
   * cold Lambda) would see all of Stripe's retries at once. The local runtime sets a floor.
   */
  minRetryMs: number;
  /** Chance that a delivered event is delivered a second time. */
  duplicateRate: number;
  /** Most wall-clock ms an event waits before it is sent: the window in which events overtake each other. */
  maxLatencyMs: number;
  /** Deliveries in flight at once. */
  concurrency: number;
}

/**
 * Stripe retries a sandbox's failed delivery three times over a few hours (live mode: up to three
 * days, with exponential backoff) without publishing the intervals: 1, 2 and 3 hours after each
 * failure (the last try 6 hours after the first) is the sandbox's reading of it.
 */
export const SANDBOX_RETRY_HOURS: readonly number[] = [1, 2, 3];

export const DEFAULT_DELIVERY: DeliveryOptions = {
  mode: 'stripe',
  seed: 1,
  hourMs: 3_600_000,
  retryAfterHours: SANDBOX_RETRY_HOURS,
  minRetryMs: 0,
  duplicateRate: 0.1,
  maxLatencyMs: 20,
  concurrency: 2,
};

const REQUEST_TIMEOUT_MS = 10_000;

/** Stripe-Signature as Stripe computes it: HMAC-SHA256 of "<t>.<payload>" with the endpoint secret. */
export function signPayload(payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

/**
 * mulberry32: a tiny seeded PRNG. Math.random cannot be seeded, and a failing seed must replay;
 * the draws are made when an event is queued (in creation order), so the same API calls get the
 * same latencies and duplicates. Which in-flight delivery finishes first still depends on timing.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface DispatcherOptions {
  /** The event's type and its JSON as sent. */
  getEvent: (id: string) => { type: string; payload: string } | undefined;
  onDelivered: (id: string) => void;
  log: (line: string) => void;
  retry: RetryPolicy;
  delivery: DeliveryOptions;
}

interface Delivery {
  id: string;
  /** 1 for the first try; each retry adds one. */
  attempt: number;
}

export class WebhookDispatcher {
  private target: WebhookTarget | undefined;
  private enabled: ReadonlySet<string> | undefined;
  /** Ready to send (ordered mode: in creation order, the head is being sent). */
  private readonly queue: Delivery[] = [];
  /** Waiting for their latency or a retry (stripe mode). */
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private pumping = false;
  private closed = false;
  private waiters: Array<() => void> = [];
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private readonly opts: DispatcherOptions;
  private readonly random: () => number;

  constructor(opts: DispatcherOptions, target?: WebhookTarget) {
    this.opts = opts;
    this.random = seededRandom(opts.delivery.seed);
    this.setTarget(target);
  }

  get mode(): DeliveryMode {
    return this.opts.delivery.mode;
  }

  /** The endpoint's own API version, if it has one. */
  get apiVersion(): string | undefined {
    return this.hasTarget ? this.target?.apiVersion : undefined;
  }

  get hasTarget(): boolean {
    return this.target !== undefined && !this.closed;
  }

  /** Whether an event of `type` is sent to the endpoint (so counts in its `pending_webhooks`). */
  wants(type: string): boolean {
    return this.hasTarget && (this.enabled === undefined || this.enabled.has(type));
  }

  setTarget(target: WebhookTarget | undefined): void {
    this.target = target;
    const enabled = target?.enabledEvents;
    this.enabled = enabled === undefined || enabled.includes('*') ? undefined : new Set(enabled);
    // Like deleting a Stripe endpoint: what was still queued or scheduled for it is abandoned.
    if (!target) this.abandon();
    this.settle();
  }

  enqueue(eventId: string, type: string): void {
    if (!this.wants(type)) return;
    if (this.mode === 'ordered') {
      this.queue.push({ id: eventId, attempt: 1 });
      // Delivery starts after the API response that caused the event has been written.
      setImmediate(() => void this.pumpOrdered());
      return;
    }
    const { duplicateRate, maxLatencyMs } = this.opts.delivery;
    this.later({ id: eventId, attempt: 1 }, this.random() * maxLatencyMs);
    if (this.random() < duplicateRate) this.later({ id: eventId, attempt: 1 }, this.random() * maxLatencyMs * 4);
  }

  /** Resolves when nothing is queued, in flight, waiting for its latency or scheduled for a retry. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.abandon();
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
    this.settle();
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.timers.size === 0 && this.inFlight === 0 && !this.pumping;
  }

  private abandon(): void {
    this.queue.length = 0;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private settle(): void {
    if (!this.isIdle()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Queues `delivery` after `ms` (stripe mode). */
  private later(delivery: Delivery, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed || !this.target) return this.settle();
      this.queue.push(delivery);
      this.pumpConcurrent();
    }, ms);
    this.timers.add(timer);
  }

  private pumpConcurrent(): void {
    const { concurrency } = this.opts.delivery;
    while (this.inFlight < concurrency && this.queue.length > 0 && !this.closed) {
      const delivery = this.queue.shift()!;
      this.inFlight += 1;
      void this.attempt(delivery).finally(() => {
        this.inFlight -= 1;
        this.pumpConcurrent();
        this.settle();
      });
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const target = this.target;
    const event = this.opts.getEvent(delivery.id);
    if (!target || !event || this.closed) return;
    const outcome = await this.post(target, event);
    if (outcome === 'ok') {
      this.opts.onDelivered(delivery.id);
      return;
    }
    const { retryAfterHours, hourMs, minRetryMs } = this.opts.delivery;
    const attempts = retryAfterHours.length + 1;
    this.opts.log(`webhook ${event.type} ${delivery.id} attempt ${delivery.attempt}/${attempts} failed: ${outcome}`);
    const hours = retryAfterHours[delivery.attempt - 1];
    if (hours === undefined) {
      this.opts.log(`webhook ${delivery.id} given up after ${attempts} attempts`);
      return;
    }
    if (this.closed || !this.target) return;
    this.later({ id: delivery.id, attempt: delivery.attempt + 1 }, Math.max(hours * hourMs, minRetryMs));
  }

  private async pumpOrdered(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const head = this.queue[0]!;
        await this.deliverWithRetries(head.id);
        if (this.queue[0] === head) this.queue.shift();
      }
    } finally {
      this.pumping = false;
      this.settle();
    }
  }

  private async deliverWithRetries(id: string): Promise<void> {
    const { attempts, initialDelayMs, maxDelayMs } = this.opts.retry;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const target = this.target;
      const event = this.opts.getEvent(id);
      if (!target || !event || this.closed) return;
      const outcome = await this.post(target, event);
      if (outcome === 'ok') {
        this.opts.onDelivered(id);
        return;
      }
      this.opts.log(`webhook ${event.type} ${id} attempt ${attempt}/${attempts} failed: ${outcome}`);
      if (attempt < attempts) await this.sleep(Math.min(initialDelayMs * 2 ** (attempt - 1), maxDelayMs));
    }
    this.opts.log(`webhook ${id} given up after ${attempts} attempts`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleeping = undefined;
        resolve();
      };
      this.sleeping = { timer: setTimeout(wake, ms), wake };
    });
  }

  private post(target: WebhookTarget, event: { payload: string }): Promise<'ok' | string> {
    const { payload } = event;
    const url = new URL(target.url);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      const req = client.request(
        url,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(payload),
            'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'Cache-Control': 'no-cache',
            Accept: '*/*; q=0.5, application/xml',
            'Stripe-Signature': signPayload(payload, target.secret),
          },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          // Like the Dashboard's delivery log: the status, and the start of what the endpoint said.
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (body.length < 200) body += chunk;
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            resolve(status >= 200 && status < 300 ? 'ok' : `HTTP ${status} ${body.slice(0, 200)}`.trim());
          });
          res.on('error', (err) => resolve(err.message));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => resolve(err.message));
      req.end(payload);
    });
  }
}
