// The operator CLI against `npm start`'s runtime, as a newcomer sees the two side by side: what the
// CLI does shows on the live timeline, and its dates are in the clock the case runs on.
import { harnessStripe } from '../fixtures/harness-stripe.ts';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalConfigSchema } from '#local/config.ts';
import { startRuntime, type Runtime } from '#local/runtime.ts';
import { timelinePrinter } from '#local/timeline.ts';
import { caseFor, renew, subjectsTo, subscribeWithDecliningCard, SUBJECTS, waitFor } from '../fixtures/scenario.ts';

const DAY = 86_400_000;
/** `case` and `cases` print times as 2027-01-07 10:00:00Z. */
const shortTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

const BIN = fileURLToPath(new URL('../../bin/dunning.mjs', import.meta.url));
/** Slow enough that a case is still open while a CLI process starts and acts on it. */
const DAY_MS = 4000;

function dunning(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, '--local', runtime.urls.app, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let runtime: Runtime;
const printed: string[] = [];
beforeAll(async () => {
  const holder: { runtime?: Runtime } = {};
  const config = LocalConfigSchema.parse({ port: 0, dynamoDbPort: 0, sesPort: 0, stripePort: 0, dayMs: DAY_MS, demo: false, stripeDelivery: 'ordered' });
  runtime = await startRuntime(config, timelinePrinter((line) => printed.push(line), holder));
  holder.runtime = runtime;
});
afterAll(async () => {
  await runtime?.close();
});

async function openCase(name: string) {
  const stripe = harnessStripe(runtime.stripeApiKey, runtime.urls.stripe);
  const subscriber = await subscribeWithDecliningCard(stripe, name);
  await renew(stripe, subscriber);
  const found = await waitFor(() => caseFor(runtime, subscriber.subscriptionId), 10_000, 'the case');
  return { ...found, email: subscriber.email, clockId: subscriber.clockId };
}

describe('the live timeline of npm start', () => {
  it('shows the operator pausing, resuming and closing a case, which no task or webhook of the runtime sees', async () => {
    const { invoiceId } = await openCase('Watched Wendy');
    const lineFor = (pattern: RegExp) => waitFor(async () => printed.find((l) => l.includes('Watched Wendy') && pattern.test(l)), 10_000, `a line matching ${pattern}`);

    expect((await dunning(['pause', invoiceId])).code).toBe(0);
    expect(await lineFor(/Operator\s+paused by operator until/)).toMatch(/open$/);
    expect((await dunning(['resume', invoiceId])).code).toBe(0);
    await lineFor(/Operator\s+resumed by operator/);
    expect((await dunning(['close', invoiceId, '--reason', 'refunded by support'])).code).toBe(0);

    expect(await lineFor(/Operator\s+closed by operator: refunded by support/)).toMatch(/closed$/);
  }, 90_000);
});

describe('the operator CLI locally, in the clock of the case', () => {
  it('takes `pause --until` in the case\'s test clock: two policy days ahead holds the stages of those days, then they run', async () => {
    const c = await openCase('Clocked Chloe');
    const failedAt = Date.parse(c.failedAt);
    // Stripe's test clock put the failure a month ahead of the wall clock: the dates an operator reads.
    expect(failedAt - Date.parse(c.createdAt)).toBeGreaterThan(20 * DAY);
    const until = new Date(failedAt + 4 * DAY).toISOString();

    const paused = await dunning(['pause', c.invoiceId, '--until', until]);

    expect(paused).toMatchObject({ code: 0, stderr: '' });
    expect(paused.stdout).toBe(
      `${c.invoiceId}: paused until ${until}; nothing is sent or charged until then. A payment still recovers it.\n` +
        `times are in the test clock of the case (${c.clockId}), one policy day per ${DAY_MS} ms here\n`,
    );
    // Retry1 and Notice2 (day 3) wait for the pause, which ends on day 4 of the case's clock. That
    // clock counts from the moment the last stage was due (Notice1, day 0), which it anchors.
    const stored = (await runtime.store.getCase(c.invoiceId))!;
    const day0 = Date.parse(stored.clockAnchor?.wall ?? c.createdAt);
    expect(Date.parse(stored.clockAnchor?.business ?? c.failedAt)).toBe(failedAt);
    const storedUntil = Date.parse(stored.pausedUntil!);
    expect(storedUntil - day0).toBeGreaterThan(3.5 * DAY_MS);
    expect(storedUntil - day0).toBeLessThan(4.5 * DAY_MS);
    await new Promise((resolve) => setTimeout(resolve, day0 + 3.5 * DAY_MS - Date.now()));
    expect(await subjectsTo(runtime, c.email)).toEqual([SUBJECTS.notice1]);
    await waitFor(async () => (await subjectsTo(runtime, c.email)).includes(SUBJECTS.notice2), 3 * DAY_MS, 'Notice2 after the pause');

    // Shown in the same clock: the case opened when it failed, and each step on its policy day.
    const shown = await dunning(['case', c.invoiceId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^times are in the test clock of the case \\(${c.clockId}\\)`));
    expect(shown.stdout).toMatch(new RegExp(`^failed at\\s+${shortTime(failedAt)}$`, 'm'));
    const rows = new Map(shown.stdout.split('\n').map((l) => /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)\s+(\w+)/.exec(l)).filter((m) => m !== null).map((m) => [m[2]!, Date.parse(m[1]!.replace(' ', 'T'))]));
    expect(Math.abs(rows.get('case_opened')! - failedAt)).toBeLessThan(DAY / 4);
    expect(rows.get('paused')! - failedAt).toBeLessThan(2 * DAY);
    expect(rows.get('retry_declined')! - failedAt).toBeGreaterThan(3.5 * DAY);
    expect(rows.get('retry_declined')! - failedAt).toBeLessThan(5 * DAY);
    expect(shown.stdout).toMatch(new RegExp(`paused\\s+by operator until ${until.replace(/[.]/g, '\\.')} \\(test clock\\)`));
    // The next retry, planned by Notice2, and why; and the decline it follows, classified.
    expect(shown.stdout).toMatch(/^next retry\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ Retry2: generic_decline; /m);
    expect(shown.stdout).toMatch(/^last decline\s+retry_later: generic_decline; try_again_later from the issuer \(by workflow; 2 charges so far\)$/m);

    // A pause without a date holds at 30 days after the case opened, in its clock too.
    const capped = await dunning(['pause', c.invoiceId]);
    expect(capped.stdout).toContain(`paused until ${new Date(failedAt + 30 * DAY).toISOString()} (until resumed, at most 30 days after the case opened)`);
    expect((await dunning(['close', c.invoiceId, '--reason', 'end of test'])).code).toBe(0);
  }, 120_000);
});
