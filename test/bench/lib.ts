// What the bench sections share: starting the runtime quietly, making failed renewals through the
// Stripe sandbox in bulk, delivering signed events at a fixed concurrency, and summarising samples.
import '../../local/polyfills.ts';
import Stripe from 'stripe';
import { LocalConfigSchema } from '#local/config.ts';
import type { AwsCallTap } from '#local/aws/iam-gateway.ts';
import { startRuntime, type Runtime, type RuntimeEvents, type RuntimeOptions } from '#local/runtime.ts';
import { rateLimitWaitingHttpClient } from '@stripe-dunning/stripe-sandbox';
import { createStripeClient } from '#shared/adapters/stripe-gateway.ts';
import { withDeliveriesPaused } from '../fixtures/scenario.ts';

export async function startBenchRuntime(
  dayMs: number,
  events: RuntimeEvents = {},
  options: RuntimeOptions = {},
  /** Settings of LocalConfig beyond the bench's own (the burst's budget and SES rate). */
  settings: Record<string, unknown> = {},
): Promise<{ runtime: Runtime; stripe: Stripe }> {
  // Warnings of expected faults would swamp the output and cost time the product does not spend in AWS.
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  // Stripe's delivery (shuffled, some twice), with a fixed seed so two runs deliver alike and their figures compare.
  // Rate limits off, as before they existed: setup makes thousands of objects, and the figures stay
  // comparable with earlier runs. A section that measures a burst against Stripe's limits turns them
  // on itself (runtime.sandbox.setRateLimits('live')).
  // Likewise the product's own budget and SES's send rate: the storm and ingest measure the engine,
  // and a budget of 8 a second would pace 10,000 cases for hours. The budget is still taken (its
  // counters are written per request, as in AWS), at a rate nothing reaches. The burst sets its own.
  const unpaced = { stripeBudget: '10000/10000', emailBudget: '10000', sesMaxSendRate: 0 };
  const config = LocalConfigSchema.parse({ port: 0, dynamoDbPort: 0, sesPort: 0, stripePort: 0, dayMs, demo: false, stripeDeliverySeed: 1, stripeRateLimits: 'off', ...unpaced, ...settings });
  const runtime = await startRuntime(config, events, options);
  // The SDK retries connection resets, and the harness client waits out the sandbox's 429s (the SDK
  // does not retry a rate limit): a bench wants a loaded sandbox to be waited for, not to fail.
  const stripe = createStripeClient({ apiKey: runtime.stripeApiKey, apiBase: runtime.urls.stripe, httpClient: rateLimitWaitingHttpClient() });
  return { runtime, stripe };
}

/**
 * Makes `count` subscriptions whose renewal fails, through the sandbox's Stripe API, and returns the
 * `invoice.payment_failed` events as Stripe sends them (JSON), with webhook deliveries paused so the
 * bench decides when they arrive. Customers share one price and a test clock per `perClock`, so one
 * advance renews many: setup is not what is measured.
 */
export async function failedRenewals(runtime: Runtime, stripe: Stripe, count: number, options: { concurrency?: number; perClock?: number; log?: (line: string) => void } = {}): Promise<string[]> {
  const concurrency = options.concurrency ?? 8;
  const perClock = options.perClock ?? 100;
  const log = options.log ?? (() => undefined);
  const seen = new Set<string>();
  for await (const event of stripe.events.list({ type: 'invoice.payment_failed', limit: 100 })) seen.add(event.id);
  const product = await stripe.products.create({ name: 'Acme Pro' });
  const price = await stripe.prices.create({ product: product.id, unit_amount: 1500, currency: 'gbp', recurring: { interval: 'month' } });
  const now = Math.floor(Date.now() / 1000);
  await withDeliveriesPaused(runtime, async () => {
    const clocks = Math.ceil(count / perClock);
    for (let c = 0; c < clocks; c++) {
      const clock = await stripe.testHelpers.testClocks.create({ frozen_time: now });
      const size = Math.min(perClock, count - c * perClock);
      const periodEnds = await mapLimit(Array.from({ length: size }, (_, i) => c * perClock + i), concurrency, async (i) => {
        const customer = await stripe.customers.create({
          name: `Bench Customer ${i}`,
          email: `bench.customer.${i}@example.com`,
          test_clock: clock.id,
          payment_method: 'pm_card_visa',
          invoice_settings: { default_payment_method: 'pm_card_visa' },
        });
        const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
        const card = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
        await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: card.id } });
        return subscription.items.data[0]!.current_period_end;
      });
      await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: Math.max(...periodEnds) + 3600 });
      log(`  setup: ${Math.min(count, (c + 1) * perClock)}/${count} renewals failed`);
    }
  });
  const events: string[] = [];
  for await (const event of stripe.events.list({ type: 'invoice.payment_failed', limit: 100 })) {
    if (!seen.has(event.id)) events.push(JSON.stringify(event, null, 2));
  }
  if (events.length !== count) throw new Error(`expected ${count} invoice.payment_failed events, the sandbox made ${events.length}`);
  return events.reverse();
}

export interface Sample {
  ms: number;
  status: number;
  /** Attempts the delivery took: more than 1 when the connection failed and it was sent again. */
  attempts: number;
}

const DELIVERY_ATTEMPTS = 5;

/**
 * POSTs each payload, signed as Stripe signs it, `concurrency` at a time; one sample per delivery,
 * timed from its first attempt. A connection that fails (a keep-alive socket the server closed as it
 * was reused, which a starved event loop makes likelier) is sent again, as Stripe redelivers.
 */
export async function deliverSigned(url: string, secret: string, payloads: string[], concurrency: number): Promise<Sample[]> {
  return mapLimit(payloads, concurrency, async (payload) => {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret });
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': signature },
          body: payload,
        });
        await response.arrayBuffer();
      } catch (error) {
        if (attempt >= DELIVERY_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
        continue;
      }
      return { ms: performance.now() - started, status: response.status, attempts: attempt };
    }
  });
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(ms: number[]): LatencySummary {
  const sorted = [...ms].sort((a, b) => a - b);
  return { count: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: round1(sorted.at(-1) ?? 0) };
}

/** Nearest-rank quantile of sorted values, to 0.1. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return round1(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
}

export function median(values: number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

export const round1 = (n: number) => Math.round(n * 10) / 10;

export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index]!, index);
      }
    }),
  );
  return results;
}

/** A section prints as it goes, then hands its result to `run.ts` as one JSON line on stdout. */
export const RESULT_PREFIX = 'BENCH_RESULT ';
export function emitResult(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

/** DynamoDB calls the functions made since the last reset, with the capacity each consumed. */
export interface DynamoTally {
  calls: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  /**
   * Calls by who made them, what and on which kind of item: `route-events UpdateItem CASE`, the kind
   * being the sort key's first segment (or the partition key's, for a table-wide item such as a budget
   * counter). Absent in runs before it was counted.
   */
  byCaller?: Record<string, number>;
}

/** The kind of item a DynamoDB request touches: its sort key's first segment, else its partition key's. */
function itemKindOf(request: unknown): string {
  const body = request as { Key?: Record<string, unknown>; Item?: Record<string, unknown>; KeyConditionExpression?: string; IndexName?: string };
  const key = body.Key ?? body.Item;
  const value = (attribute: unknown) => (attribute as { S?: string } | undefined)?.S ?? '';
  if (key) {
    const sk = value(key.sk);
    const pk = value(key.pk);
    return (sk || pk).split(/[#:]/)[0] || '?';
  }
  return body.IndexName ? `index ${body.IndexName}` : 'query';
}

/**
 * Counts every DynamoDB call the functions make, where each passes the local IAM check on its way to
 * dynalite (a tap for measurement: `RuntimeOptions.awsCallTap`), asking for ReturnConsumedCapacity:
 * dynalite computes the units from item sizes as DynamoDB does. On-demand bills those units: a write
 * request unit per 1 KB written, a read request unit per 4 KB read strongly (half eventually). The
 * runtime's own reads (the console, the bench's polling) do not pass the check, so are not billed.
 */
export function countDynamoCalls(): { tap: AwsCallTap; reset(): void; snapshot(): DynamoTally } {
  let tally: DynamoTally = { calls: {}, readUnits: 0, writeUnits: 0, byCaller: {} };
  const WRITES = /^(Put|Update|Delete|BatchWrite|TransactWrite)/;
  const operation = (target: string | undefined) => (target ?? '').replace(/^DynamoDB_\d+\./, '');
  return {
    tap: {
      rewrite: ({ service, request }) =>
        service === 'dynamodb' ? { ...(request as Record<string, unknown>), ReturnConsumedCapacity: 'TOTAL' } : undefined,
      answered: ({ principal, service, target, status, request, response }) => {
        if (service !== 'dynamodb') return;
        const name = operation(target);
        tally.calls[name] = (tally.calls[name] ?? 0) + 1;
        // The tap names the caller by its function's name (the IAM check's principal).
        const by = `${principal} ${name} ${itemKindOf(request)}`;
        tally.byCaller = { ...tally.byCaller, [by]: (tally.byCaller?.[by] ?? 0) + 1 };
        if (status >= 300) {
          // A failed conditional write still consumes (and bills) its write units.
          if (WRITES.test(name)) tally.writeUnits += 1;
          return;
        }
        const consumed = (response as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> }).ConsumedCapacity;
        const units = [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
        if (WRITES.test(name)) tally.writeUnits += units || 1;
        else tally.readUnits += units || 0.5;
      },
    },
    reset: () => {
      tally = { calls: {}, readUnits: 0, writeUnits: 0, byCaller: {} };
    },
    snapshot: () => structuredClone(tally),
  };
}
