// `dunning simulate` as a child process: a made-up failure needs no runtime, so most of these run the
// CLI alone; `--invoice` reads a real failed invoice from the local runtime's Stripe.
import { harnessStripe } from '../fixtures/harness-stripe.ts';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalConfigSchema } from '#local/config.ts';
import { startRuntime, type Runtime } from '#local/runtime.ts';
import { DECLINE_CLASSES } from '#shared/retries/classify.ts';
import { annualPolicyFile, defaultPolicy, writePolicyFile } from '../fixtures/policies.ts';
import { caseFor, renew, subscribeWithDecliningCard, waitFor } from '../fixtures/scenario.ts';

const BIN = fileURLToPath(new URL('../../bin/dunning.mjs', import.meta.url));

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function dunning(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

interface SimulatedJson {
  policy: string;
  failure: { class: string; code: string; reason: string };
  zone: string;
  steps: Array<{ kind: string; stage: string; at: string; reason: string }>;
  skipped: Array<{ stage: string; reason: string }>;
}

async function simulateJson(args: string[], env?: NodeJS.ProcessEnv): Promise<SimulatedJson> {
  const run = await dunning(['simulate', ...args, '--json'], env);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout) as SimulatedJson;
}

/** The zone's own view of an instant, from Intl rather than from the offset the CLI printed. */
function localTime(instant: Date, timeZone: string) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return { weekday: parts.weekday!, date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

const ISO_WITH_OFFSET = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?[+-]\d\d:\d\d$/;

describe('dunning simulate with a made-up failure', () => {
  it('prints one JSON object of the documented shape, and nothing else, with --json', async () => {
    const run = await dunning(['simulate', '--decline-code', 'insufficient_funds', '--time-zone', 'Europe/Paris', '--failed-at', '2026-12-03T10:00:00Z', '--json']);

    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as SimulatedJson;
    expect(Object.keys(printed).sort()).toEqual(['failure', 'policy', 'skipped', 'steps', 'zone']);
    expect(printed).toMatchObject({
      policy: 'default',
      failure: { class: 'retry_later', code: 'insufficient_funds', reason: expect.any(String) },
      zone: 'Europe/Paris',
    });
    expect(Object.keys(printed.failure).sort()).toEqual(['class', 'code', 'reason']);
    for (const step of printed.steps) {
      expect(Object.keys(step).sort()).toEqual(['at', 'kind', 'reason', 'stage']);
      expect(['notice', 'retry', 'end']).toContain(step.kind);
      expect(step.at).toMatch(ISO_WITH_OFFSET);
    }
    for (const skip of printed.skipped) expect(Object.keys(skip).sort()).toEqual(['reason', 'stage']);
    expect(printed.steps.map((s) => s.stage)).toEqual(['Notice1', 'Retry1', 'Notice2', 'Retry2', 'Notice3', 'Retry3', 'Terminate']);
    expect(printed.steps.at(-1)).toMatchObject({ kind: 'end', stage: 'Terminate' });
  });

  it('plans every insufficient_funds retry on a weekday between 09:00 and 18:00 in Europe/Paris, winter and summer', async () => {
    // A Thursday morning in winter (UTC+1), a Friday evening in summer (UTC+2), a Saturday night.
    for (const failedAt of ['2026-12-03T10:00:00Z', '2026-07-03T17:30:00Z', '2026-10-24T23:00:00Z']) {
      const { steps } = await simulateJson(['--decline-code', 'insufficient_funds', '--time-zone', 'Europe/Paris', '--failed-at', failedAt]);

      const retries = steps.filter((s) => s.kind === 'retry');
      expect(retries.length, failedAt).toBeGreaterThan(0);
      for (const retry of retries) {
        const [, printedDate, printedTime] = ISO_WITH_OFFSET.exec(retry.at)!;
        const local = localTime(new Date(retry.at), 'Europe/Paris');
        // The printed offset is Paris's at that instant: its wall time is the one Intl gives.
        expect({ date: printedDate, time: printedTime }, retry.at).toEqual({ date: local.date, time: local.time });
        expect(['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], retry.at).toContain(local.weekday);
        expect(local.time >= '09:00' && local.time < '18:00', `${retry.stage} at ${retry.at}`).toBe(true);
      }
    }
  });

  it('plans no retry after Mastercard advice 03 (do not try again), and says why each is skipped', async () => {
    const printed = await simulateJson(['--network-advice-code', '03', '--brand', 'mastercard']);

    expect(printed.failure.class).toBe('hard');
    expect(printed.steps.filter((s) => s.kind === 'retry')).toEqual([]);
    expect(printed.skipped.map((s) => s.stage)).toEqual(['Retry1', 'Retry2', 'Retry3']);
    expect(printed.skipped[0]!.reason).toMatch(/advice 03/);
  });

  it('takes an error code such as expired_card as the failure\'s code: the customer must act', async () => {
    const printed = await simulateJson(['--decline-code', 'expired_card']);

    expect(printed.failure).toMatchObject({ class: 'needs_customer', code: 'expired_card' });
    expect(printed.steps.filter((s) => s.kind === 'retry')).toEqual([]);
  });

  it('names the policy, the failure, the zone and each stage in its human output', async () => {
    const run = await dunning(['simulate', '--decline-code', 'insufficient_funds', '--time-zone', 'America/New_York', '--failed-at', '2026-12-03T10:00:00Z']);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [header] = run.stdout.split('\n');
    expect(header).toBe('policy default; failure insufficient_funds: retry_later (insufficient_funds); times in America/New_York');
    // Each stage is a planned step, in New York's time (a weekend moves Retry1 to the Friday before).
    for (const stage of defaultPolicy().stages.map((s) => s.id).concat('Terminate')) {
      expect(run.stdout).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d-05:00\\s+\\w+\\s+${stage}\\s`, 'm'));
    }
    expect(run.stdout).not.toMatch(/^skipped\s+why$/m);
  });

  it('uses the policy\'s zone without --time-zone, and every zone of the country with --country', async () => {
    expect((await simulateJson(['--decline-code', 'insufficient_funds'])).zone).toBe(defaultPolicy().timeZone);
    expect((await simulateJson(['--decline-code', 'insufficient_funds', '--country', 'fr'])).zone).toBe('Europe/Paris (FR)');
  });

  it('picks a policy of a file of several with --policy-name, and from DUNNING_POLICY_FILE without --policy', async () => {
    const file = writePolicyFile(annualPolicyFile());

    const annual = await simulateJson(['--decline-code', 'insufficient_funds', '--policy', file, '--policy-name', 'annual', '--failed-at', '2026-12-03T10:00:00Z']);
    expect(annual.policy).toBe('annual');
    expect(annual.steps.at(-1)).toMatchObject({ stage: 'Terminate', reason: expect.stringMatching(/day 30\): leave_unpaid/) });

    const fromEnv = await simulateJson(['--decline-code', 'insufficient_funds', '--policy-name', 'annual'], { ...process.env, DUNNING_POLICY_FILE: file });
    expect(fromEnv.policy).toBe('annual');
  });

  it('under retries: "stripe" says Stripe\'s Smart Retries retry, and prints the notices and the end', async () => {
    const file = writePolicyFile({ ...structuredClone(defaultPolicy()), retries: 'stripe' });

    const printed = await simulateJson(['--decline-code', 'insufficient_funds', '--policy', file]);
    expect(printed.steps.map((s) => s.kind)).toEqual(['notice', 'notice', 'notice', 'end']);
    expect(printed.skipped.map((s) => s.stage)).toEqual(['Retry1', 'Retry2', 'Retry3']);
    expect(printed.skipped[0]!.reason).toMatch(/Smart Retries/);

    const human = await dunning(['simulate', '--decline-code', 'insufficient_funds', '--policy', file]);
    expect(human.stdout.split('\n')[1]).toMatch(/^Stripe's Smart Retries do the retrying/);
  });

  it('refuses a bad zone, a bad date, an unknown policy name, a missing failure and a misplaced flag in one line', async () => {
    const file = writePolicyFile(annualPolicyFile());
    const refusals: Array<[string[], RegExp]> = [
      [['--decline-code', 'insufficient_funds', '--time-zone', 'Europe/Pariss'], /^dunning: --time-zone Europe\/Pariss: not an IANA time zone/],
      [['--decline-code', 'insufficient_funds', '--failed-at', '2026-02-30T10:00:00Z'], /^dunning: --failed-at 2026-02-30T10:00:00Z: not a date/],
      [['--decline-code', 'insufficient_funds', '--failed-at', '2026-03-01T09:00'], /^dunning: --failed-at 2026-03-01T09:00: not a date/],
      [['--decline-code', 'insufficient_funds', '--policy', file, '--policy-name', 'yearly'], /^dunning: --policy-name yearly: no such policy; the policies are default, annual$/m],
      [['--decline-code', 'insufficient_funds', '--country', 'XX'], /^dunning: --country XX: not a country code/],
      [[], /^dunning: simulate needs a failure \(--decline-code, --advice-code or --network-advice-code\) or --invoice: dunning simulate /],
      [['--decline-code', 'insufficient_funds', '--invoice', 'in_123'], /^dunning: simulate takes a made-up failure .* or --invoice, not both/],
      [['--decline-code', 'insufficient_funds', '--since', '2026-01-01'], /^dunning: --since is not a flag of simulate/],
      [['--decline-code', 'insufficient_funds', '--time-zon', 'UTC'], /^dunning: unknown flag --time-zon \(did you mean --time-zone\?\)/],
    ];
    for (const [args, message] of refusals) {
      const run = await dunning(['simulate', ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect(await dunning(['cases', '--json'])).toMatchObject({ code: 2, stderr: 'dunning: --json is not a flag of cases; it goes with simulate\n' });
  });
});

describe('dunning simulate --invoice against the local runtime', () => {
  let runtime: Runtime;
  beforeAll(async () => {
    // Days long enough that the case is still at its first notice while the CLI reads it.
    const config = LocalConfigSchema.parse({ port: 0, dynamoDbPort: 0, sesPort: 0, stripePort: 0, dayMs: 60_000, demo: false, stripeDelivery: 'ordered' });
    runtime = await startRuntime(config);
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('reads the invoice\'s failure from Stripe and plans from its case\'s failure, in the customer\'s zone', async () => {
    const stripe = harnessStripe(runtime.stripeApiKey, runtime.urls.stripe);
    const subscriber = await subscribeWithDecliningCard(stripe, 'Simulated Simone');
    await stripe.customers.update(subscriber.customerId, { metadata: { time_zone: 'Asia/Tokyo' } });
    await renew(stripe, subscriber);
    const opened = await waitFor(() => caseFor(runtime, subscriber.subscriptionId), 10_000, 'the case');

    const printed = await simulateJson(['--local', runtime.urls.app, '--invoice', opened.invoiceId]);

    expect(printed.policy).toBe('default');
    expect(printed.zone).toBe('Asia/Tokyo');
    expect(DECLINE_CLASSES).toContain(printed.failure.class);
    expect(printed.steps[0]).toMatchObject({ kind: 'notice', stage: 'Notice1', at: expect.stringMatching(/\+09:00$/) });
    // Day 0's notice is at the failure: the case's, to the minute the output shows.
    expect(Math.abs(Date.parse(printed.steps[0]!.at) - Date.parse(opened.failedAt))).toBeLessThan(60_000);

    const human = await dunning(['simulate', '--local', runtime.urls.app, '--invoice', opened.invoiceId]);
    expect(human.stdout.split('\n')[0]).toMatch(new RegExp(`^${opened.invoiceId}: failed at \\S+ \\(its case's, open at `));
    expect(await dunning(['simulate', '--local', runtime.urls.app, '--invoice', 'in_nosuchinvoice'])).toMatchObject({ code: 1, stdout: '' });
  }, 60_000);
});
