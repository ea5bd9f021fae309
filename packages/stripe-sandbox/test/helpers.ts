// Shared setup for the sandbox tests: a sandbox, an SDK client pointed at it, and a local
// webhook receiver that verifies Stripe-Signature with the SDK itself.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { rateLimitWaitingHttpClient, startStripeSandbox, type StripeSandbox, type StripeSandboxOptions } from '../src/index.ts';

export const WEBHOOK_SECRET = 'whsec_sandbox_test_secret';

/**
 * An SDK client for the tests' own traffic, which runs far faster than Stripe's test-mode 25 requests a
 * second: it waits out the sandbox's rate limiter (pass `httpClient` to see the 429s).
 */
export function stripeFor(sandbox: StripeSandbox, config: Stripe.StripeConfig = {}): Stripe {
  return new Stripe('sk_test_sandbox', {
    host: '127.0.0.1',
    port: sandbox.port,
    protocol: 'http',
    httpClient: rateLimitWaitingHttpClient(),
    ...config,
  });
}

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  event: Stripe.Event;
  status: number;
  /** When it arrived (Date.now()). */
  at: number;
}

export interface Receiver {
  url: string;
  /** Every accepted (2xx) delivery, verified with `stripe.webhooks.constructEvent`. */
  deliveries: Delivery[];
  /** Every request, including the ones answered with an error. */
  attempts: Delivery[];
  /** Answer the next `n` deliveries with HTTP 500. */
  failNext(n: number): void;
  types(): string[];
  close(): Promise<void>;
}

export async function startReceiver(secret = WEBHOOK_SECRET): Promise<Receiver> {
  const verifier = new Stripe('sk_test_verifier');
  const deliveries: Delivery[] = [];
  const attempts: Delivery[] = [];
  let failures = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let event: Stripe.Event;
      try {
        event = verifier.webhooks.constructEvent(body, String(req.headers['stripe-signature']), secret);
      } catch (err) {
        res.writeHead(400).end((err as Error).message);
        return;
      }
      const status = failures > 0 ? 500 : 200;
      if (failures > 0) failures -= 1;
      const delivery = { headers: req.headers, body, event, status, at: Date.now() };
      attempts.push(delivery);
      if (status === 200) deliveries.push(delivery);
      res.writeHead(status, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    deliveries,
    attempts,
    failNext(n) {
      failures = n;
    },
    types: () => deliveries.map((d) => d.event.type),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Harness {
  sandbox: StripeSandbox;
  stripe: Stripe;
  receiver: Receiver;
  close(): Promise<void>;
}

/**
 * A sandbox delivering to a fresh receiver, with a client that never retries on its own. Delivery is
 * `ordered`: these tests read the receiver's deliveries as the log of what Stripe created, in order;
 * delivery as Stripe delivers it (shuffled, twice, retried hours later) is webhooks.test.ts's subject.
 */
export async function startHarness(options: StripeSandboxOptions = {}): Promise<Harness> {
  const receiver = await startReceiver();
  const sandbox = await startStripeSandbox({
    webhook: { url: receiver.url, secret: WEBHOOK_SECRET },
    webhookRetry: { initialDelayMs: 10 },
    delivery: { mode: 'ordered' },
    ...options,
  });
  const stripe = stripeFor(sandbox, { maxNetworkRetries: 0 });
  return {
    sandbox,
    stripe,
    receiver,
    async close() {
      await sandbox.close();
      await receiver.close();
    },
  };
}

export const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z
export const DAY = 86_400;

/** A monthly price, a customer on a fresh test clock paying with `card`, and their subscription. */
export async function subscribedCustomer(
  stripe: Stripe,
  card = 'pm_card_visa',
  extra: Partial<Stripe.SubscriptionCreateParams> = {},
): Promise<{ clock: Stripe.TestHelpers.TestClock; customer: Stripe.Customer; price: Stripe.Price; subscription: Stripe.Subscription }> {
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: T0, name: 'dunning' });
  const price = await stripe.prices.create({
    currency: 'usd',
    unit_amount: 2500,
    recurring: { interval: 'month' },
    product_data: { name: 'Pro plan' },
  });
  const customer = await stripe.customers.create({
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    test_clock: clock.id,
    payment_method: card,
    invoice_settings: { default_payment_method: card },
  });
  const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }], ...extra });
  return { clock, customer, price, subscription };
}

/** Advances a test clock and waits until it reads `ready`, as a client of real Stripe must. */
export async function advance(stripe: Stripe, clockId: string, to: number): Promise<void> {
  await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: to });
  for (let i = 0; i < 100; i++) {
    const clock = await stripe.testHelpers.testClocks.retrieve(clockId);
    if (clock.status === 'ready') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`test clock ${clockId} never became ready`);
}

export async function catchError(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await p;
  } catch (err) {
    return err as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail');
}

/** The newest event of `type` about object `id` (lists mix events from every test). */
export async function lastEventFor(stripe: Stripe, type: string, id: string): Promise<Stripe.Event> {
  const events = await stripe.events.list({ type, limit: 100 });
  const event = events.data.find((e) => (e.data.object as { id?: string }).id === id);
  if (!event) throw new Error(`no ${type} event for ${id}`);
  return event;
}

/** Every request an endpoint gets, signed or not, and what to answer. */
export interface RawReceiver {
  url: string;
  requests: Array<{ body: string; signature: string }>;
  close(): Promise<void>;
}

export async function startRawReceiver(status = 200): Promise<RawReceiver> {
  const requests: RawReceiver['requests'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ body: Buffer.concat(chunks).toString('utf8'), signature: String(req.headers['stripe-signature']) });
      res.writeHead(status).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
