// Section 1, webhook ingest: signed invoice.payment_failed events through the local runtime's
// POST /webhook, fresh (each stored in the event queue, a case opened behind it) and again as
// duplicates, against a floor that only verifies the signature with the stripe SDK, all at one
// concurrency, in one process. Also how long the router behind the queue took to open every case.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { deliverSigned, emitResult, failedRenewals, round1, startBenchRuntime, summarize, type LatencySummary, type Sample } from './lib.ts';

const EVENTS = Number(process.env.BENCH_INGEST_EVENTS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_INGEST_CONCURRENCY ?? 16);
const WARMUP = 50;

export interface IngestRun extends LatencySummary {
  perSecond: number;
  non200: number;
}
export interface IngestResult {
  events: number;
  concurrency: number;
  floor: IngestRun;
  fresh: IngestRun;
  duplicate: IngestRun;
  /**
   * Fresh events again (others), with route-events opening cases and Notice1 running behind the queue
   * on the same two cores meanwhile. In AWS those run in other Lambdas; here they take the webhook's CPU.
   */
  freshRoutingAlongside?: IngestRun;
  casesOpened: number;
  /** From enabling the router's mapping until it had opened every case of both fresh runs, s. */
  routedSeconds?: number;
}

/** How long to wait for the router to open every case after the deliveries were answered. */
const ROUTING_TIMEOUT_MS = 600_000;

async function main(): Promise<void> {
  // Days of an hour: only Notice1 runs behind the deliveries, as it would in AWS (in another Lambda).
  const { runtime, stripe } = await startBenchRuntime(3_600_000);
  try {
    console.log(`ingest: making ${2 * EVENTS + WARMUP} failed renewals in the sandbox (setup, not measured)`);
    const payloads = await failedRenewals(runtime, stripe, 2 * EVENTS + WARMUP, { log: console.log, perClock: 250 });
    const warmup = payloads.slice(0, WARMUP);
    const measured = payloads.slice(WARMUP, WARMUP + EVENTS);
    const second = payloads.slice(WARMUP + EVENTS);
    const router = runtime.deployment.queues.find((q) => /WebhookEventsQueue/.test(q.name))!;
    const secret = runtime.config.webhookSecret;

    const floorServer = await startFloor(secret);
    const floorUrl = `http://127.0.0.1:${(floorServer.address() as AddressInfo).port}/webhook`;
    await deliverSigned(floorUrl, secret, warmup, CONCURRENCY);
    const floor = await timed(() => deliverSigned(floorUrl, secret, measured, CONCURRENCY));
    floorServer.close();

    await deliverSigned(runtime.urls.webhook, secret, warmup, CONCURRENCY);
    await openedAtLeast(runtime, WARMUP);
    // The webhook alone, as it runs in AWS, in Lambdas of its own: the router's mapping is disabled
    // while it takes the events, and they wait in the queue (UpdateEventSourceMapping Enabled=false).
    runtime.sqs.setEnabled(router.arn, false);
    const fresh = await timed(() => deliverSigned(runtime.urls.webhook, secret, measured, CONCURRENCY));
    const started = performance.now();
    runtime.sqs.setEnabled(router.arn, true);
    // And with the router draining the first thousand behind it on the same cores.
    const freshRoutingAlongside = await timed(() => deliverSigned(runtime.urls.webhook, secret, second, CONCURRENCY));
    // The webhook answered once each event was in the queue; the cases open behind it.
    const casesOpened = (await openedAtLeast(runtime, WARMUP + measured.length + second.length)) - WARMUP - second.length;
    const routedSeconds = round1((performance.now() - started) / 1000);
    const duplicate = await timed(() => deliverSigned(runtime.urls.webhook, secret, measured, CONCURRENCY));

    const result: IngestResult = { events: measured.length, concurrency: CONCURRENCY, floor, fresh, freshRoutingAlongside, duplicate, casesOpened, routedSeconds };
    console.table({ floor, 'ours, fresh': fresh, 'ours, fresh, routing alongside': freshRoutingAlongside, 'ours, duplicate': duplicate });
    emitResult(result);
  } finally {
    await runtime.close();
  }
}

/** The least any receiver must do: read the raw body, verify its signature, answer 200. */
async function startFloor(secret: string): Promise<Server> {
  const stripe = new Stripe('sk_test_floor');
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        stripe.webhooks.constructEvent(Buffer.concat(chunks), String(req.headers['stripe-signature']), secret);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Waits until the store holds `count` cases (or the timeout), and answers how many it holds. */
async function openedAtLeast(runtime: Awaited<ReturnType<typeof startBenchRuntime>>['runtime'], count: number): Promise<number> {
  const until = Date.now() + ROUTING_TIMEOUT_MS;
  for (;;) {
    const opened = (await runtime.store.listCases()).length;
    if (opened >= count || Date.now() > until) return opened;
    // A scan of the table: once a second, so the count itself takes little from the routing.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

async function timed(run: () => Promise<Sample[]>): Promise<IngestRun> {
  const started = performance.now();
  const samples = await run();
  const seconds = (performance.now() - started) / 1000;
  return {
    perSecond: round1(samples.length / seconds),
    ...summarize(samples.map((s) => s.ms)),
    non200: samples.filter((s) => s.status !== 200).length,
  };
}

await main();
process.exit(0);
