// Public API of the Stripe sandbox: an HTTP server speaking Stripe's REST API, close enough that
// the official `stripe` SDK works against it unchanged. Nothing else in src/ is for import.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { processDue } from './billing/clock.ts';
import { API_VERSION, Core, KNOWN_API_VERSIONS, type InvoiceAfterRetries, type SubscriptionAfterRetries } from './core.ts';
import { registerWebhookEndpoint } from './handlers/webhookEndpoints.ts';
import { listen } from './listen.ts';
import { RateLimiter, type RateLimits, type RateLimitSetting } from './rate-limits.ts';
import { RequestCounter, type RequestStats } from './request-stats.ts';
import { createRequestHandler, Faults, type FaultSpec } from './server.ts';
import { Store } from './store.ts';
import { realNow } from './time.ts';
import { updateCardAutomatically } from './wallet.ts';
import { DEFAULT_DELIVERY, DEFAULT_RETRY, WebhookDispatcher, type DeliveryOptions, type RetryPolicy, type WebhookTarget } from './webhooks.ts';

// What a host program and its tests use besides the sandbox itself: the API versions it answers,
// Stripe's signature for a host's own signed test webhooks, Stripe's fixture objects for its own
// test data, and the error of a port in use.
export { API_VERSION, KNOWN_API_VERSIONS, type InvoiceAfterRetries, type SubscriptionAfterRetries } from './core.ts';
export { readStripeFixtures } from './fixtures.ts';
export { rateLimitWaitingHttpClient, type RateLimitWaitOptions } from './harness-http-client.ts';
export { PortInUseError } from './listen.ts';
export {
  parseRateLimits,
  RATE_LIMIT_PRESETS,
  RATE_LIMITS_SYNTAX,
  type RateLimitPreset,
  type RateLimitReason,
  type RateLimits,
  type RateLimitSetting,
} from './rate-limits.ts';
export type { EndpointStats, RefusalReason, RequestStats } from './request-stats.ts';
export { signPayload, type DeliveryMode, type DeliveryOptions, type WebhookTarget } from './webhooks.ts';

export interface StripeSandboxOptions {
  port?: number; // 0 or undefined = pick a free port
  host?: string; // default '127.0.0.1'
  webhook?: WebhookTarget; // where to POST signed events (and which types); can also be set later
  dataDir?: string; // if set, state is loaded from / saved to <dataDir>/stripe-sandbox.json
  log?: (line: string) => void; // optional, for diagnostics
  /**
   * How events are delivered. Default: as Stripe delivers (`mode: 'stripe'`): in no guaranteed
   * order, some twice, a failed delivery retried 1, 2 and 3 Stripe hours later (`hourMs`, default a
   * real hour). `mode: 'ordered'`: one at a time in creation order, never twice (`webhookRetry`).
   */
  delivery?: Partial<DeliveryOptions>;
  /** Redelivery in `ordered` mode: attempts per event (default 5) and first backoff (default 100 ms, doubling). */
  webhookRetry?: Partial<RetryPolicy>;
  /**
   * Days before each renewal that `invoice.upcoming` is sent, as Stripe's subscription settings
   * configure it (Stripe offers 3, 7, 15, 30, 45 or 60; default 3).
   */
  upcomingInvoiceDays?: number;
  /**
   * Stripe's automatic retries of failed invoices, as days after each previous failed attempt
   * (e.g. [1, 3, 5]). Default: off, as the product's `retries: "workflow"` policy asks.
   */
  automaticRetryDays?: number[];
  /**
   * What Stripe does to the subscription when its retries of a failed invoice are over (Settings →
   * Billing → "Manage failed payments" → Subscription status): `cancel` (Stripe's default), `unpaid`
   * or `past_due` (leave it). With `automaticRetryDays` empty, that is right after the first failure.
   */
  subscriptionAfterRetries?: SubscriptionAfterRetries;
  /** The same setting's Invoice status: `past_due` (leave it, the default) or `uncollectible`. */
  invoiceAfterRetries?: InvoiceAfterRetries;
  /**
   * The account's default API version (default: the SDK's, `API_VERSION`), for requests without
   * `Stripe-Version` and webhook endpoints without an `apiVersion`. Must be one of `KNOWN_API_VERSIONS`.
   */
  defaultApiVersion?: string;
  /**
   * Stripe's rate limiter (docs.stripe.com/rate-limits): requests per second for the account and for
   * each endpoint (method and route), answered past them with Stripe's 429 and its
   * `Stripe-Rate-Limited-Reason`. `test` (the default: 25 and 25, as a Stripe sandbox), `live` (100
   * and 25), `off`, or `{ global, perEndpoint }`. Test helpers (test clocks) are never limited.
   */
  rateLimits?: RateLimitSetting;
}

export interface StripeSandbox {
  readonly url: string; // e.g. http://127.0.0.1:12111
  readonly port: number;
  setWebhook(target: WebhookTarget | undefined): void;
  /** Resolves when every event created so far has been delivered (or has given up): nothing queued or scheduled for a retry. */
  idle(): Promise<void>;
  /** Makes the next `count` API requests matching method+path regex fail with Stripe's error for `status` (429 → rate_limit error, 500/502/503 → api_error) */
  injectFault(fault: { method?: string; path: RegExp | string; status: 429 | 500 | 502 | 503; count: number }): void;
  /** Removes every injected fault that has not fired yet. */
  clearFaults(): void;
  /**
   * Stripe's card account updater renewing a card: sets the payment method's new expiry and sends
   * `payment_method.automatically_updated` (also `POST /_sandbox/payment_methods/:id/automatically_update`).
   */
  updateCardAutomatically(paymentMethodId: string, expiry: { exp_month: number; exp_year: number }): void;
  /** Changes the rate limits from now on (also `POST /_sandbox/rate_limits`); throws on a bad setting. */
  setRateLimits(setting: RateLimitSetting): void;
  /** The rate limits in force; `undefined` when off (also `GET /_sandbox/rate_limits`). */
  rateLimits(): RateLimits | undefined;
  /**
   * The API requests received since the start or the last reset (also `GET /_sandbox/requests`):
   * per endpoint and in total, with the busiest second, and the 429s answered by reason.
   */
  requestStats(): RequestStats;
  /** Starts the request statistics over (also `DELETE /_sandbox/requests`). */
  resetRequestStats(): void;
  close(): Promise<void>;
}

/** How often subscriptions on real time (no test clock) are checked for a period end. */
const REAL_TIME_TICK_MS = 1000;

export async function startStripeSandbox(options: StripeSandboxOptions = {}): Promise<StripeSandbox> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => undefined);
  // A bad setting is refused before the port is taken.
  const traffic = { limiter: new RateLimiter(options.rateLimits ?? 'test'), requests: new RequestCounter() };
  const server = createServer();
  await listen(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let store: Store;
  try {
    store = new Store(url, options.dataDir);
  } catch (err) {
    server.close();
    throw err;
  }
  const webhooks = new WebhookDispatcher(
    {
      getEvent: (id) => store.eventPayload(id),
      onDelivered: (id) => {
        store.markEventDelivered(id);
        store.scheduleSave();
      },
      log,
      retry: { ...DEFAULT_RETRY, ...options.webhookRetry },
      delivery: { ...DEFAULT_DELIVERY, ...options.delivery },
    },
    options.webhook,
  );
  const core = new Core(store, webhooks, log);
  core.settings.automaticRetryDays = [...(options.automaticRetryDays ?? [])];
  core.settings.upcomingInvoiceDays = options.upcomingInvoiceDays ?? 3;
  core.settings.subscriptionAfterRetries = options.subscriptionAfterRetries ?? 'cancel';
  core.settings.invoiceAfterRetries = options.invoiceAfterRetries ?? 'past_due';
  for (const version of [options.defaultApiVersion, options.webhook?.apiVersion]) {
    if (version !== undefined && !KNOWN_API_VERSIONS.has(version)) {
      server.close();
      throw new Error(`Invalid Stripe API version: ${version} (known: ${[...KNOWN_API_VERSIONS].join(', ')})`);
    }
  }
  core.settings.defaultApiVersion = options.defaultApiVersion ?? API_VERSION;
  // Endpoints made through the API before a restart keep receiving events.
  for (const endpoint of store.all('webhook_endpoint')) registerWebhookEndpoint(core, endpoint);
  const faults = new Faults();
  server.on('request', createRequestHandler(core, faults, traffic));

  const ticker = setInterval(() => {
    try {
      processDue(core, null, realNow());
    } catch (err) {
      log(`stripe-sandbox: real-time renewal failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, REAL_TIME_TICK_MS);
  ticker.unref();

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    setWebhook: (target) => {
      if (target?.apiVersion !== undefined && !KNOWN_API_VERSIONS.has(target.apiVersion)) {
        throw new Error(`Invalid Stripe API version: ${target.apiVersion}`);
      }
      webhooks.setTarget(target);
    },
    idle: () => webhooks.idle(),
    injectFault: (fault: FaultSpec) => faults.add(fault),
    clearFaults: () => faults.clear(),
    updateCardAutomatically: (paymentMethodId, expiry) => {
      updateCardAutomatically(core, paymentMethodId, expiry);
      store.scheduleSave();
    },
    setRateLimits: (setting) => traffic.limiter.set(setting),
    rateLimits: () => traffic.limiter.current,
    requestStats: () => traffic.requests.read(),
    resetRequestStats: () => traffic.requests.reset(),
    close() {
      closed ??= new Promise<void>((resolve) => {
        clearInterval(ticker);
        webhooks.close();
        store.flush();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
