// `npm run bench`: how fast the webhook answers Stripe under concurrent deliveries, and whether an
// invoice.paid closes its case within the promised second. Exits non-zero when a target is missed.
import '../../local/polyfills.ts';
import Stripe from 'stripe';
import { LocalConfigSchema } from '#local/config.ts';
import { startRuntime, type Runtime } from '#local/runtime.ts';
import { createStripeClient } from '#shared/adapters/stripe-gateway.ts';
import { renew, subscribeWithDecliningCard, withDeliveriesPaused } from '../fixtures/scenario.ts';

const CASES = Number(process.env.BENCH_CASES ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const TARGETS = {
  /** Stripe times a delivery out at 10-20 s and retries; we answer in a small fraction of that. */
  paymentFailedP95Ms: 500,
  /** The product promises an invoice.paid closes its case within a second of delivery. */
  paidP99Ms: 1000,
  /** Memory held per open case in the local runtime (all services in one process). */
  rssGrowthPerCaseKb: 1024,
};

interface Sample { ms: number; status: number }

async function main(): Promise<void> {
  // Days long enough that only notice 1 runs during the bench: it measures ingest, not waits.
  const config = LocalConfigSchema.parse({ port: 0, dynamoDbPort: 0, sesPort: 0, stripePort: 0, dayMs: 3_600_000, demo: false });
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const runtime = await startRuntime(config);
  const stripe = createStripeClient({ apiKey: runtime.stripeApiKey, apiBase: runtime.urls.stripe });
  try {
    console.log(`bench: ${CASES} failed renewals, ${CONCURRENCY} deliveries at a time`);
    const failed = await collectEvents(runtime, stripe, 'invoice.payment_failed', async () => {
      const subscribers = await mapLimit(Array.from({ length: CASES }, (_, i) => i), CONCURRENCY, (i) =>
        subscribeWithDecliningCard(stripe, `Bench Customer ${i}`),
      );
      await mapLimit(subscribers, CONCURRENCY, (s) => renew(stripe, s));
    });
    const rssBefore = process.memoryUsage().rss;
    const failedSamples = await deliver(runtime, failed, CONCURRENCY);
    await waitForCases(runtime, failed.length);
    const rssGrowthPerCaseKb = (process.memoryUsage().rss - rssBefore) / 1024 / failed.length;

    const paid = await collectEvents(runtime, stripe, 'invoice.paid', async () => {
      const cases = await runtime.store.listCases();
      await mapLimit(cases, CONCURRENCY, (c) => stripe.invoices.pay(c.invoiceId, { payment_method: 'pm_card_visa' }));
    });
    const paidSamples = await deliver(runtime, paid, CONCURRENCY);
    const recovered = (await runtime.store.listCases()).filter((c) => c.status === 'recovered').length;

    const report = {
      paymentFailed: summarize(failedSamples),
      paid: summarize(paidSamples),
      casesRecovered: `${recovered}/${failed.length}`,
      rssGrowthPerCaseKb: Math.round(rssGrowthPerCaseKb),
    };
    console.table({ 'invoice.payment_failed': report.paymentFailed, 'invoice.paid': report.paid });
    console.log(`cases recovered by invoice.paid: ${report.casesRecovered}; RSS growth per case: ${report.rssGrowthPerCaseKb} KB`);

    const misses = [
      report.paymentFailed.p95 > TARGETS.paymentFailedP95Ms && `invoice.payment_failed p95 ${report.paymentFailed.p95} ms > ${TARGETS.paymentFailedP95Ms} ms`,
      report.paid.p99 > TARGETS.paidP99Ms && `invoice.paid p99 ${report.paid.p99} ms > ${TARGETS.paidP99Ms} ms`,
      recovered !== failed.length && `only ${recovered} of ${failed.length} cases recovered`,
      report.rssGrowthPerCaseKb > TARGETS.rssGrowthPerCaseKb && `RSS grew ${report.rssGrowthPerCaseKb} KB per case`,
      [...failedSamples, ...paidSamples].some((s) => s.status !== 200) && 'some deliveries were not answered 200',
    ].filter(Boolean);
    if (misses.length) {
      console.error(`bench: targets missed:\n  ${misses.join('\n  ')}`);
      process.exitCode = 1;
    } else {
      console.log('bench: all targets met');
    }
  } finally {
    await runtime.close();
  }
}

/** Runs `act` with deliveries paused and returns the events of `type` it caused, as Stripe sends them. */
async function collectEvents(runtime: Runtime, stripe: Stripe, type: string, act: () => Promise<unknown>): Promise<string[]> {
  const seen = new Set<string>();
  for await (const event of stripe.events.list({ type, limit: 100 })) seen.add(event.id);
  await withDeliveriesPaused(runtime, act);
  const events: string[] = [];
  // Test-clock events carry each clock's time, so new events are told apart by id, not by time.
  for await (const event of stripe.events.list({ type, limit: 100 })) {
    if (!seen.has(event.id)) events.push(JSON.stringify(event, null, 2));
  }
  return events.reverse();
}

async function deliver(runtime: Runtime, payloads: string[], concurrency: number): Promise<Sample[]> {
  return mapLimit(payloads, concurrency, async (payload) => {
    const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: runtime.config.webhookSecret });
    const started = performance.now();
    const response = await fetch(runtime.urls.webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body: payload,
    });
    await response.arrayBuffer();
    return { ms: performance.now() - started, status: response.status };
  });
}

async function waitForCases(runtime: Runtime, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await runtime.store.listCases()).length < count) {
    if (Date.now() > deadline) throw new Error(`only some of ${count} cases opened`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function summarize(samples: Sample[]) {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: Math.round(sorted.at(-1) ?? 0) };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index]!);
      }
    }),
  );
  return results;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
