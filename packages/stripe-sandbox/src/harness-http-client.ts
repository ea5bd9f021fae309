// An HTTP client for the `stripe` SDK that waits out Stripe's rate limiter, for a test harness's own
// setup traffic. The SDK does not retry a rate-limited 429: Stripe sends no `Stripe-Should-Retry` on it
// (only lock timeouts are retried by its client libraries, docs.stripe.com/rate-limits), and an
// integration must pace itself. A harness creating fifty customers is not the integration under test.
import Stripe from 'stripe';

type HttpClient = NonNullable<Stripe.StripeConfig['httpClient']>;
type HttpClientResponse = Awaited<ReturnType<HttpClient['makeRequest']>>;

export interface RateLimitWaitOptions {
  /** How many 429s one request waits out before the last one is handed to the SDK (default 60). */
  attempts?: number;
  /** The longest wait between two tries, in milliseconds (default 1000, the limiter's window). */
  maxDelayMs?: number;
}

/**
 * Wraps `inner` (the SDK's Node client by default) so that a 429 from Stripe's limiter, which names
 * itself in `Stripe-Rate-Limited-Reason`, is tried again after a jittered, growing wait. Any other
 * answer, including a 429 without that header (a fault a test injected), goes to the SDK unchanged.
 * A rate-limited request never ran, so sending it again, idempotency key and all, is safe.
 */
export function rateLimitWaitingHttpClient(options: RateLimitWaitOptions = {}, inner: HttpClient = Stripe.createNodeHttpClient()): HttpClient {
  const attempts = options.attempts ?? 60;
  const maxDelayMs = options.maxDelayMs ?? 1000;
  if (!Number.isInteger(attempts) || attempts < 0) throw new Error(`attempts must be a whole number, 0 or more; got ${attempts}`);
  if (!(maxDelayMs > 0)) throw new Error(`maxDelayMs must be above 0; got ${maxDelayMs}`);
  return {
    getClientName: () => `${inner.getClientName()}+rate-limit-wait`,
    async makeRequest(...args): Promise<HttpClientResponse> {
      for (let attempt = 0; ; attempt++) {
        const response = await inner.makeRequest(...args);
        const reason = response.getHeaders()['stripe-rate-limited-reason'];
        if (response.getStatusCode() !== 429 || reason === undefined || attempt >= attempts) return response;
        await response.toJSON().catch(() => undefined); // frees the connection for the next try
        const ceiling = Math.min(maxDelayMs, 50 * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, ceiling / 2 + (Math.random() * ceiling) / 2));
      }
    },
  };
}
