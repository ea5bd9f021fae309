// Section 6, the burst: the 1st of the month. BENCH_BURST_CASES failing renewals delivered as fast as
// the webhook takes them (within a minute), with the sandbox enforcing Stripe's live-mode limits and
// the local SES a maximum send rate, run until every case has ended. What it shows: no case is
// flagged for a limit, no 429 reaches Stripe's side of the count, and the product's peak stays
// within its budget. Rate limits are in real seconds, policy days compressed (BENCH_BURST_DAY_MS).
import { createRequire } from 'node:module';
import type { LocalExecution } from '#local/stepfunctions.ts';
import { sesThrottledCount } from '#local/ses.ts';
import { STRIPE_BUDGET_DEFAULTS } from '#shared/config.ts';
import { deliverSigned, emitResult, failedRenewals, startBenchRuntime } from './lib.ts';

const CASES = Number(process.env.BENCH_BURST_CASES ?? 10_000);
const DAY_MS = Number(process.env.BENCH_BURST_DAY_MS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_BURST_CONCURRENCY ?? 32);
const SES_RATE = Number(process.env.BENCH_BURST_SES_RATE ?? 14);
const EMAIL_BUDGET = Number(process.env.BENCH_BURST_EMAIL_BUDGET ?? 10);
const BUDGET = STRIPE_BUDGET_DEFAULTS.live;

export interface BurstResult {
  cases: number;
  dayMs: number;
  startedAt: string;
  budget: { perSecond: number; perEndpointPerSecond: number; emailsPerSecond: number };
  limits: { stripeGlobal: number; stripePerEndpoint: number; sesPerSecond: number };
  /** Until the last payment_failed delivery was answered. */
  deliverySeconds: number;
  /** Deliveries not answered 200 (Stripe would deliver them again). */
  notAccepted: number;
  /** From the first delivery until every execution had ended. */
  workflowSeconds: number;
  /** From the first delivery until the last case's first notice was sent. */
  firstNoticesSeconds: number;
  /** The floor the email budget puts under it: cases / emails per second. */
  firstNoticesBoundSeconds: number;
  statuses: Record<string, number>;
  executions: Record<string, number>;
  flagged: number;
  /** Stripe's side: the sandbox's count of requests and 429s during the workflow. */
  stripe: {
    requests: number;
    rateLimited: number;
    peakPerSecond: number;
    endpoints: Array<{ endpoint: string; requests: number; perCase: number; peakPerSecond: number; rateLimited: number }>;
  };
  sesThrottled: number;
  peakEmailsPerSecond: number;
  emails: number;
  /** Stage attempts that waited for a limit and were retried by the state machine, by error. */
  absorbed: Record<string, number>;
  cpuSeconds: number;
  peakRssMb: number;
}

async function main(): Promise<void> {
  const ended: LocalExecution[] = [];
  const absorbed: Record<string, number> = {};
  const firstNoticeAt = new Map<string, number>();
  let started = 0;
  let allEnded: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allEnded = resolve));
  const { runtime, stripe } = await startBenchRuntime(
    DAY_MS,
    {
      onTask: (event) => {
        if (event.error) absorbed[event.error.name] = (absorbed[event.error.name] ?? 0) + 1;
        const invoiceId = (event.input as { invoiceId?: string }).invoiceId;
        if (event.state === 'Notice1' && !event.error && invoiceId && !firstNoticeAt.has(invoiceId)) firstNoticeAt.set(invoiceId, performance.now() - started);
      },
      onExecutionEnd: (execution) => {
        ended.push(execution);
        if (ended.length === CASES) allEnded();
      },
    },
    {},
    { stripeBudget: `${BUDGET.perSecond}/${BUDGET.perEndpointPerSecond}`, emailBudget: String(EMAIL_BUDGET), sesMaxSendRate: SES_RATE },
  );
  try {
    const sandbox = runtime.sandbox!;
    console.log(`burst: ${CASES} failing renewals; Stripe live-mode limits, SES ${SES_RATE}/s; budget ${BUDGET.perSecond}/${BUDGET.perEndpointPerSecond} Stripe, ${EMAIL_BUDGET} emails/s`);
    const startedAt = new Date().toISOString();
    const payloads = await failedRenewals(runtime, stripe, CASES, { log: console.log, perClock: 250 });

    sandbox.setRateLimits('live');
    sandbox.resetRequestStats();
    const throttledBefore = sesThrottledCount();
    let peakRss = process.memoryUsage.rss();
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 250);
    const cpuAtStart = process.cpuUsage();
    started = performance.now();
    const progress = setInterval(
      () => console.log(`  ${ended.length}/${CASES} ended, ${firstNoticeAt.size} first notices, after ${((performance.now() - started) / 1000).toFixed(0)} s`),
      15_000,
    );
    const samples = await deliverSigned(runtime.urls.webhook, runtime.config.webhookSecret, payloads, CONCURRENCY);
    const notAccepted = samples.filter((s) => s.status !== 200).length;
    const deliverySeconds = (performance.now() - started) / 1000;
    const timeoutMs = Number(process.env.BENCH_BURST_TIMEOUT_S ?? 7200) * 1000;
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, Math.max(0, timeoutMs - (performance.now() - started))).unref())]);
    const workflowSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    clearInterval(progress);
    clearInterval(sampler);
    const stats = sandbox.requestStats();

    const cases = await runtime.store.listCases();
    const statuses: Record<string, number> = {};
    for (const c of cases) statuses[c.status] = (statuses[c.status] ?? 0) + 1;
    const executions: Record<string, number> = {};
    for (const e of ended) executions[e.status] = (executions[e.status] ?? 0) + 1;
    const sesStore = createRequire(import.meta.url)('aws-ses-v2-local/dist/store.js') as { getStoreReadonly(): { emails: Array<{ at: number }> } };
    const perSecond = new Map<number, number>();
    for (const email of sesStore.getStoreReadonly().emails) perSecond.set(email.at, (perSecond.get(email.at) ?? 0) + 1);

    const result: BurstResult = {
      cases: CASES,
      dayMs: DAY_MS,
      startedAt,
      budget: { perSecond: BUDGET.perSecond, perEndpointPerSecond: BUDGET.perEndpointPerSecond, emailsPerSecond: EMAIL_BUDGET },
      limits: { stripeGlobal: 100, stripePerEndpoint: 25, sesPerSecond: SES_RATE },
      deliverySeconds,
      notAccepted,
      workflowSeconds,
      firstNoticesSeconds: Math.max(0, ...firstNoticeAt.values()) / 1000,
      firstNoticesBoundSeconds: CASES / EMAIL_BUDGET,
      statuses,
      executions,
      flagged: statuses.needs_attention ?? 0,
      stripe: {
        requests: stats.total.requests,
        rateLimited: stats.total.rateLimited,
        peakPerSecond: stats.total.peakPerSecond,
        endpoints: Object.entries(stats.endpoints)
          .map(([endpoint, e]) => ({ endpoint, requests: e.requests, perCase: Math.round((e.requests / CASES) * 100) / 100, peakPerSecond: e.peakPerSecond, rateLimited: e.rateLimited }))
          .sort((a, b) => b.requests - a.requests),
      },
      sesThrottled: sesThrottledCount() - throttledBefore,
      peakEmailsPerSecond: Math.max(0, ...perSecond.values()),
      emails: sesStore.getStoreReadonly().emails.length,
      absorbed,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssMb: Math.round(peakRss / 2 ** 20),
    };
    console.log(`  ${ended.length}/${CASES} ended in ${workflowSeconds.toFixed(0)} s; flagged ${result.flagged}; Stripe peak ${result.stripe.peakPerSecond}/s, 429s ${result.stripe.rateLimited}; SES throttled ${result.sesThrottled}`);
    emitResult(result);
  } finally {
    await runtime.close();
  }
}

await main();
process.exit(0);
