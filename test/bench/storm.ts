// Section 2, the storm: BENCH_STORM_CASES failing renewals through the whole local workflow with
// compressed days. Setup (subscriptions in the sandbox) is timed apart from the workflow, which runs
// from the first delivery of invoice.payment_failed until every execution has ended.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Session } from 'node:inspector/promises';
import type { LocalExecution } from '#local/stepfunctions.ts';
import { SUBJECTS } from '../fixtures/scenario.ts';
import { deliverSigned, emitResult, failedRenewals, startBenchRuntime, summarize, type LatencySummary } from './lib.ts';
import { attribute, topFunctions, type ProfileShare } from './profile.ts';

const CASES = Number(process.env.BENCH_STORM_CASES ?? 10_000);
const DAY_MS = Number(process.env.BENCH_DAY_MS ?? 50);
const CONCURRENCY = Number(process.env.BENCH_STORM_CONCURRENCY ?? 16);
const PROFILE = process.env.BENCH_STORM_PROFILE !== '0';
const ACTION_FUNCTION: Record<string, string> = { notice: 'send-notice', retry: 'retry-payment', recover: 'close-case', terminate: 'close-case' };

export interface StormResult {
  cases: number;
  dayMs: number;
  concurrency: number;
  setupSeconds: number;
  workflowSeconds: number;
  /** Until the last delivery was answered: how long the webhook took to take the storm in. */
  ingestSeconds: number;
  /**
   * CPU time (user + system) the process spent in the workflow part: on a shared machine the wall
   * time also counts other work's turns on the cores, this does not.
   */
  workflowCpuSeconds?: number;
  /** After the workflow: until the sandbox's webhook queue (one delivery at a time) was empty. Not timed. */
  settleSeconds?: number;
  /** Deliveries of the storm's payment_failed events sent again after a connection failure. */
  redelivered?: number;
  peakRssMb: number;
  /** The whole process's peak, setup included. */
  maxRssMb: number;
  terminated: number;
  wrongStatus: Record<string, number>;
  executions: Record<string, number>;
  emailsChecked: number;
  emailsWrong: number;
  emailSample: string[];
  durations: Record<string, LatencySummary & { mean: number }>;
  profile?: ProfileShare[];
  hottest?: ProfileShare[];
  startedAt?: string;
  /** Read from BENCH_STORM_RESULT rather than run by run.ts. */
  separateRun?: boolean;
}

async function main(): Promise<void> {
  const durations: Record<string, number[]> = {};
  const ended: LocalExecution[] = [];
  let allEnded: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allEnded = resolve));
  const { runtime, stripe } = await startBenchRuntime(DAY_MS, {
    onTask: (event) => {
      const fn = ACTION_FUNCTION[(event.input as { action: string }).action] ?? 'unknown';
      (durations[fn] ??= []).push(event.durationMs);
    },
    onExecutionEnd: (execution) => {
      ended.push(execution);
      if (ended.length === CASES) allEnded();
    },
  });
  try {
    console.log(`storm: ${CASES} failing renewals, a policy day lasting ${DAY_MS} ms, deliveries ${CONCURRENCY} at a time`);
    const startedAt = new Date().toISOString();
    const setupStarted = performance.now();
    const payloads = await failedRenewals(runtime, stripe, CASES, { log: console.log, perClock: 250 });
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    console.log(`  setup: ${setupSeconds.toFixed(1)} s`);

    // The functions no Task runs (the router behind the queue, the event publisher behind the stream,
    // the webhook) are timed from Lambda's own Duration metric, as CloudWatch would have it.
    const byFunctionName = new Map([...runtime.deployment.functions.values()].map((spec) => [spec.functionName, spec.name]));
    const taskFunctions = new Set(Object.values(ACTION_FUNCTION));
    const unsubscribe = runtime.metrics.subscribe((datum) => {
      if (datum.namespace !== 'AWS/Lambda' || datum.name !== 'Duration') return;
      const fn = byFunctionName.get(datum.dimensions.FunctionName ?? '');
      if (fn && !taskFunctions.has(fn)) (durations[fn] ??= []).push(datum.value);
    });

    // memoryUsage.rss() reads the RSS alone; memoryUsage() also walks the heap (1% of the CPU profile at 10 Hz).
    let peakRss = process.memoryUsage.rss();
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
    const session = PROFILE ? await startProfile() : undefined;
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const deliveries = deliverSigned(runtime.urls.webhook, runtime.config.webhookSecret, payloads, CONCURRENCY);
    const progress = setInterval(() => console.log(`  ${ended.length}/${CASES} executions ended after ${((performance.now() - started) / 1000).toFixed(0)} s`), 10_000);
    const samples = await deliveries;
    const ingestSeconds = (performance.now() - started) / 1000;
    // An execution that never ends would hang the bench: give up after BENCH_STORM_TIMEOUT_S and report.
    const timeoutMs = Number(process.env.BENCH_STORM_TIMEOUT_S ?? 3600) * 1000;
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, Math.max(0, timeoutMs - (performance.now() - started))).unref())]);
    const workflowSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    const workflowCpuSeconds = (cpu.user + cpu.system) / 1e6;
    clearInterval(progress);
    unsubscribe();
    const rawProfile = session ? await stopProfile(session) : undefined;
    // BENCH_PROFILE_FILE keeps the raw profile: open it in Chrome DevTools or speedscope.
    if (rawProfile && process.env.BENCH_PROFILE_FILE) writeFileSync(process.env.BENCH_PROFILE_FILE, JSON.stringify(rawProfile));
    const profile = rawProfile ? attribute(rawProfile) : undefined;
    clearInterval(sampler);
    console.log(`  workflow: ${workflowSeconds.toFixed(1)} s, ${workflowCpuSeconds.toFixed(1)} s of CPU (deliveries answered after ${ingestSeconds.toFixed(1)} s)`);
    const rejected = samples.filter((s) => s.status !== 200).length;
    const redelivered = samples.filter((s) => s.attempts > 1).length;
    if (redelivered) console.log(`  ${redelivered} deliveries were sent again after a connection failure`);
    if (rejected) console.log(`  ${rejected} deliveries were not answered 200`);

    // Late webhook deliveries (customer.subscription.deleted) settle before the check.
    const settling = performance.now();
    await runtime.sandbox!.idle();
    const settleSeconds = (performance.now() - settling) / 1000;
    console.log(`  late webhook deliveries settled after another ${settleSeconds.toFixed(1)} s`);
    const check = await checkOutcomes(runtime, ended);
    const result: StormResult = {
      cases: CASES,
      dayMs: DAY_MS,
      concurrency: CONCURRENCY,
      setupSeconds,
      workflowSeconds,
      ingestSeconds,
      workflowCpuSeconds,
      settleSeconds,
      redelivered,
      peakRssMb: Math.round(peakRss / 2 ** 20),
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      ...check,
      durations: Object.fromEntries(
        Object.entries(durations).map(([fn, ms]) => [fn, { ...summarize(ms), mean: Math.round((ms.reduce((a, b) => a + b, 0) / ms.length) * 10) / 10 }]),
      ),
      profile,
      hottest: rawProfile ? topFunctions(rawProfile, 12) : undefined,
      startedAt,
    };
    console.log(`  ${check.terminated}/${CASES} terminated; emails: ${check.emailsChecked - check.emailsWrong}/${check.emailsChecked} customers got exactly the four expected`);
    emitResult(result);
  } finally {
    await runtime.close();
  }
}

/** Every case terminated, every execution ended in Terminated, and each customer got exactly the four emails, in order. */
async function checkOutcomes(runtime: Awaited<ReturnType<typeof startBenchRuntime>>['runtime'], ended: LocalExecution[]) {
  const cases = await runtime.store.listCases();
  const wrongStatus: Record<string, number> = {};
  let terminated = 0;
  for (const c of cases) {
    if (c.status === 'terminated') terminated++;
    else wrongStatus[c.status] = (wrongStatus[c.status] ?? 0) + 1;
  }
  const executions: Record<string, number> = {};
  for (const e of ended) executions[e.status] = (executions[e.status] ?? 0) + 1;
  // Read in-process: the same store `GET /store` serves, without serialising 40,000 emails to JSON.
  const sesStore = createRequire(import.meta.url)('aws-ses-v2-local/dist/store.js') as {
    getStoreReadonly(): { emails: Array<{ destination: { to: string[] }; subject: string }> };
  };
  const byRecipient = new Map<string, string[]>();
  for (const email of sesStore.getStoreReadonly().emails) {
    for (const to of email.destination.to) {
      const subjects = byRecipient.get(to) ?? [];
      subjects.push(email.subject);
      byRecipient.set(to, subjects);
    }
  }
  const expected = JSON.stringify([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
  // Each bench customer has its own address, so each recipient is one case.
  let emailsWrong = Math.max(0, cases.length - byRecipient.size);
  for (const subjects of byRecipient.values()) if (JSON.stringify(subjects) !== expected) emailsWrong++;
  const first = byRecipient.values().next().value ?? [];
  return {
    terminated,
    wrongStatus,
    executions,
    emailsChecked: cases.length,
    emailsWrong,
    emailSample: first,
  };
}

/** A sampling CPU profile of the workflow only (the inspector's profiler, as `node --cpu-prof` uses). */
async function startProfile(): Promise<Session> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // 10 ms between samples keeps the profiler's own cost out of the wall time.
  await session.post('Profiler.setSamplingInterval', { interval: 10_000 });
  await session.post('Profiler.start');
  return session;
}

async function stopProfile(session: Session) {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  return profile;
}

await main();
process.exit(0);
