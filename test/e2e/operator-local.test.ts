// The operator CLI against `npm start`'s runtime, as a newcomer sees the two side by side: what the
// CLI does shows on the live timeline, and its dates are in the clock the case runs on.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalConfigSchema } from '#local/config.ts';
import { startRuntime, type Runtime } from '#local/runtime.ts';
import { timelinePrinter } from '#local/timeline.ts';
import { createStripeClient } from '#shared/adapters/stripe-gateway.ts';
import { caseFor, renew, subscribeWithDecliningCard, waitFor } from '../fixtures/scenario.ts';

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
  const stripe = createStripeClient({ apiKey: runtime.stripeApiKey, apiBase: runtime.urls.stripe });
  const subscriber = await subscribeWithDecliningCard(stripe, name);
  await renew(stripe, subscriber);
  return waitFor(() => caseFor(runtime, subscriber.subscriptionId), 10_000, 'the case');
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
