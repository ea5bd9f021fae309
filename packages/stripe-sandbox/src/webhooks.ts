// Delivers events to the webhook endpoints the way Stripe does: signed JSON POSTs after the API
// call that caused them, in no guaranteed order, sometimes twice, and retried for hours when the
// endpoint fails (https://docs.stripe.com/webhooks#event-ordering, #handle-duplicate-events,
// #automatic-retries). An `ordered` mode keeps the idealised delivery some tests need. The
// endpoints are the host's own target (`webhook`, `setWebhook`) and those made through
// /v1/webhook_endpoints; each gets every event it subscribes to, independently (webhook-lane.ts).
import { Lane } from './webhook-lane.ts';

export { signPayload } from './webhook-lane.ts';

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
  /** One endpoint received the event (called once per endpoint that was sent it). */
  onDelivered: (id: string) => void;
  log: (line: string) => void;
  retry: RetryPolicy;
  delivery: DeliveryOptions;
}

/**
 * The seed of the `n`th endpoint made through the API (1, 2, …): its own draws, so adding one does
 * not change when the host's target (seeded with `seed` itself) gets its events.
 */
function endpointSeed(seed: number, n: number): number {
  return (seed ^ Math.imul(n, 0x9e3779b9)) >>> 0;
}

/** One URL however written: a trailing slash or the host's case does not make another. */
function sameUrl(a: string, b: string): boolean {
  const normal = (url: string) => url.replace(/\/+$/, '').replace(/^(https?:\/\/[^/]+)/i, (origin) => origin.toLowerCase());
  return normal(a) === normal(b);
}

export class WebhookDispatcher {
  private waiters: Array<() => void> = [];
  private closed = false;
  private readonly opts: DispatcherOptions;
  /** The host's own target: `webhook` in the options, or `setWebhook`. */
  private readonly primary: Lane;
  /** Endpoints made through /v1/webhook_endpoints, by id, in creation order. */
  private readonly endpoints = new Map<string, Lane>();
  private readonly endpointUrls = new Map<string, string>();
  private endpointsMade = 0;

  constructor(opts: DispatcherOptions, target?: WebhookTarget) {
    this.opts = opts;
    this.primary = this.lane(seededRandom(opts.delivery.seed), false, '', target);
  }

  get mode(): DeliveryMode {
    return this.opts.delivery.mode;
  }

  /** The host's endpoint's own API version, if it has one: what events are recorded at. */
  get apiVersion(): string | undefined {
    return this.primary.currentTarget?.apiVersion;
  }

  get hasTarget(): boolean {
    return this.primary.hasTarget;
  }

  /** Whether an event of `type` is sent to the host's endpoint. */
  wants(type: string): boolean {
    return this.primary.wants(type) && !this.primaryReplaced();
  }

  /**
   * The host's own target stands in for an endpoint nobody made through the API (the local runtime
   * wires its webhook so, as if `dunning connect` had run). Once an enabled endpoint made through the
   * API posts to the same URL, that one is the endpoint there: the host's stops, so the URL gets each
   * event once, signed with the new endpoint's own secret, as in Stripe. Disabled, that endpoint
   * still stands for the URL (Stripe then sends nothing there); deleted, the host's target is back.
   */
  private primaryReplaced(): boolean {
    const url = this.primary.currentTarget?.url;
    if (!url) return false;
    for (const claimed of this.endpointUrls.values()) if (sameUrl(claimed, url)) return true;
    return false;
  }

  /** The URL of an endpoint made through the API, enabled or not. */
  setEndpointUrl(id: string, url: string): void {
    this.endpointUrls.set(id, url);
  }

  /** How many endpoints an event of `type` is sent to: its `pending_webhooks` when created. */
  recipients(type: string): number {
    let n = this.wants(type) ? 1 : 0;
    for (const lane of this.endpoints.values()) if (lane.wants(type)) n += 1;
    return n;
  }

  setTarget(target: WebhookTarget | undefined): void {
    this.primary.setTarget(target);
  }

  /**
   * An endpoint made through the API, as it is now (its url, secret, enabled_events and the
   * version its events are rendered at), or `undefined` while it is disabled. What was queued or
   * scheduled for a disabled endpoint is abandoned, as for a removed one.
   */
  setEndpoint(id: string, target: WebhookTarget | undefined): void {
    const lane = this.endpoints.get(id);
    if (lane) return lane.setTarget(target);
    if (!target || this.closed) return;
    this.endpointsMade += 1;
    const random = seededRandom(endpointSeed(this.opts.delivery.seed, this.endpointsMade));
    this.endpoints.set(id, this.lane(random, true, ` to ${id}`, target));
  }

  /** A deleted endpoint: nothing more is sent to it. */
  removeEndpoint(id: string): void {
    this.endpointUrls.delete(id);
    const lane = this.endpoints.get(id);
    if (!lane) return;
    this.endpoints.delete(id);
    lane.close();
  }

  enqueue(eventId: string, type: string): void {
    if (this.wants(type)) this.primary.enqueue(eventId);
    for (const lane of this.endpoints.values()) if (lane.wants(type)) lane.enqueue(eventId);
  }

  /** Resolves when nothing is queued, in flight, waiting for its latency or scheduled for a retry, for any endpoint. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.primary.close();
    for (const lane of this.endpoints.values()) lane.close();
    this.settle();
  }

  private lane(random: () => number, renderAtTargetVersion: boolean, logSuffix: string, target: WebhookTarget | undefined): Lane {
    const { getEvent, onDelivered, log, retry, delivery } = this.opts;
    const onSettled = () => this.settle();
    return new Lane({ getEvent, onDelivered, log, retry, delivery, random, onSettled, renderAtTargetVersion, logSuffix }, target);
  }

  private isIdle(): boolean {
    // The primary lane is being made while its constructor settles.
    if (this.primary !== undefined && !this.primary.isIdle()) return false;
    for (const lane of this.endpoints.values()) if (!lane.isIdle()) return false;
    return true;
  }

  private settle(): void {
    if (!this.isIdle()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
