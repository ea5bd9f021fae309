// `npm start`: the whole product on this machine, then (unless --no-demo) the three-customer demo.
import './untraced.ts';
import { errorReport, exitCodeOf, exitQuietlyOnClosedPipe, wantsStack } from '#shared/command-line.ts';
import { longestEndDay } from '#shared/policy/segments.ts';
import { readLocalConfig } from './config.ts';
import { runDemo } from './demo.ts';
import { startRuntime, type Runtime } from './runtime.ts';
import { timelineHeader, timelinePrinter } from './timeline.ts';

const print = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  // `npm start | head` is a reader that had enough, not a failure.
  exitQuietlyOnClosedPipe();
  const config = readLocalConfig(process.env, process.argv.slice(2));

  const holder: { runtime?: Runtime } = {};
  const runtime = await startRuntime(config, timelinePrinter(print, holder));
  holder.runtime = runtime;

  let stopping = false;
  const demoAbort = new AbortController();
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    demoAbort.abort();
    print(`\n${signal}: stopping…`);
    await runtime.close();
    print('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  print('Stripe dunning, running locally');
  print(`  webhook receiver   POST ${runtime.urls.webhook}`);
  print(`  My Account banner  GET  ${runtime.urls.app}/customers/{customerId}/notice  (Authorization: Bearer ${config.bannerToken})`);
  print(`  update-card links  GET  ${runtime.urls.app}/u/{token}  (in every notice)`);
  print(`  My Account (local)      ${runtime.urls.account}  (every notice's My Account link; the banner and update link per customer)`);
  print(`  cases (local only) GET  ${runtime.urls.app}/cases`);
  print(`  console                 ${runtime.urls.console}  (cases, timelines, banners, emails; live)`);
  print(`  operator CLI            npx dunning --local ${runtime.urls.app} cases`);
  print(`  emails (SES inbox)      ${runtime.urls.ses}`);
  print(`  notice previews         ${runtime.urls.previews} (every notice in every locale; npm run preview)`);
  print(`  Stripe API              ${runtime.urls.stripe}${runtime.sandbox ? ' (sandbox)' : ' (test mode)'}`);
  if (runtime.sandbox) {
    const delivery = config.stripeDelivery === 'ordered' ? 'ordered, one at a time' : `as Stripe delivers (shuffled, some twice), seed ${config.stripeDeliverySeed}`;
    print(`  webhook delivery        ${delivery}`);
    const limits = runtime.sandbox.rateLimits();
    print(`  Stripe rate limits      ${limits ? `${limits.global}/s for the account, ${limits.perEndpoint}/s per endpoint` : 'off'} (STRIPE_SANDBOX_RATE_LIMITS)`);
  }
  print(`  DynamoDB                ${runtime.urls.dynamodb}`);
  print(`  webhook signing secret  ${config.webhookSecret}`);
  print(`  policy file             ${runtime.policyFile}${config.policyFile ? ' (DUNNING_POLICY_FILE)' : ' (the default; DUNNING_POLICY_FILE names another)'}`);
  print(`  one policy day          ${config.dayMs} ms${config.dataDir ? `; state in ${config.dataDir}` : '; state in memory'}`);
  if (runtime.resumed) print(`  resumed ${runtime.resumed} open case(s) from ${config.dataDir}`);
  print('ready');

  if (!config.demo) return;
  print('');
  print(timelineHeader());
  try {
    const outcomes = await runDemo({
      apiKey: runtime.stripeApiKey,
      apiBase: runtime.sandbox?.url,
      store: runtime.store,
      policies: runtime.policies,
      print,
      timeoutMs: (longestEndDay(runtime.policies) + 5) * config.dayMs + 60_000,
      signal: demoAbort.signal,
    });
    print('');
    print('demo finished:');
    for (const o of outcomes) {
      print(`  ${o.customer.name.padEnd(14)} case ${o.caseStatus.padEnd(10)} subscription ${o.subscriptionStatus}`);
    }
    // The stack's own alarms, against what the functions and services recorded: normal operation
    // (recoveries, a termination) must move none of them.
    await runtime.stepFunctions.idle();
    const moved = runtime.alarms().filter((alarm) => alarm.value > 0);
    print(
      moved.length === 0
        ? `alarms: none of the stack's ${runtime.deployment.alarms.length} alarms saw its metric move`
        : `alarms: ${moved.map((a) => `${a.id} (${a.metric} = ${a.value})`).join(', ')}`,
    );
    print(`Read every email at ${runtime.urls.ses} — still serving; Ctrl-C to stop.`);
  } catch (error) {
    if (!stopping) print(`demo failed: ${(error as Error).message}`);
  }
}

main().catch((error: unknown) => {
  // A bad policy, setting, flag or a busy port is one line naming the fix; the stack only when asked.
  process.stderr.write(`${errorReport(error, wantsStack(process.argv.slice(2), process.env))}\n`);
  process.exit(exitCodeOf(error));
});
