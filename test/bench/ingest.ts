// Section 1, webhook ingest: signed invoice.payment_failed events through the local runtime's
// POST /webhook, fresh (each opens a case) and again as duplicates, against a floor that only
// verifies the signature with the stripe SDK, all at one concurrency, in one process.
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
  casesOpened: number;
}

async function main(): Promise<void> {
  // Days of an hour: only Notice1 runs behind the deliveries, as it would in AWS (in another Lambda).
  const { runtime, stripe } = await startBenchRuntime(3_600_000);
  try {
    console.log(`ingest: making ${EVENTS + WARMUP} failed renewals in the sandbox (setup, not measured)`);
    const payloads = await failedRenewals(runtime, stripe, EVENTS + WARMUP, { log: console.log, perClock: 250 });
    const warmup = payloads.slice(0, WARMUP);
    const measured = payloads.slice(WARMUP);
    const secret = runtime.config.webhookSecret;

    const floorServer = await startFloor(secret);
    const floorUrl = `http://127.0.0.1:${(floorServer.address() as AddressInfo).port}/webhook`;
    await deliverSigned(floorUrl, secret, warmup, CONCURRENCY);
    const floor = await timed(() => deliverSigned(floorUrl, secret, measured, CONCURRENCY));
    floorServer.close();

    await deliverSigned(runtime.urls.webhook, secret, warmup, CONCURRENCY);
    const fresh = await timed(() => deliverSigned(runtime.urls.webhook, secret, measured, CONCURRENCY));
    const duplicate = await timed(() => deliverSigned(runtime.urls.webhook, secret, measured, CONCURRENCY));
    const casesOpened = (await runtime.store.listCases()).length - WARMUP;

    const result: IngestResult = { events: measured.length, concurrency: CONCURRENCY, floor, fresh, duplicate, casesOpened };
    console.table({ floor, 'ours, fresh': fresh, 'ours, duplicate': duplicate });
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
