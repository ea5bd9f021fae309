// What a person sees after `npm start`: the product comes up on loopback, the demo plays to the end
// with the right emails, a renewal driven by hand through the Stripe SDK is dunned, and Ctrl-C stops it.
import { harnessStripe } from '../fixtures/harness-stripe.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSesInbox } from '#local/ses.ts';
import { LOCAL_BANNER_TOKEN, LOCAL_STRIPE_KEY } from '#local/config.ts';
import { DEFAULT_POLICY_FILE } from '#shared/policy/load.ts';
import { shortPolicy, writePolicyFile } from '../fixtures/policies.ts';
import { startProduct, type StartedProcess } from '../fixtures/process.ts';
import { putInWorkingCard, renew, subscribeWithDecliningCard, SUBJECTS, waitFor } from '../fixtures/scenario.ts';

let product: StartedProcess | undefined;
afterEach(async () => {
  await product?.stop('SIGKILL');
  product = undefined;
});

const subjectsTo = async (sesUrl: string, address: string) =>
  (await readSesInbox(sesUrl)).filter((m) => m.to.includes(address)).map((m) => m.subject);

describe('npm start', () => {
  it('answers /health, prints ready, plays the demo to the end and stops cleanly on Ctrl-C', async () => {
    product = await startProduct({ DUNNING_DAY_MS: '150' });
    await product.waitForLine(/^ready$/, 30_000);
    const health = await fetch(`http://127.0.0.1:${product.ports.app}/health`);
    expect(health.status).toBe(200);

    await product.waitForLine(/Read every email at/, 60_000);
    const output = product.output();
    const sesUrl = `http://127.0.0.1:${product.ports.ses}`;

    expect(output).toMatch(/Ada Lovelace\s+case recovered\s+subscription active/);
    expect(output).toMatch(/Grace Hopper\s+case recovered\s+subscription active/);
    expect(output).toMatch(/Alan Turing\s+case terminated subscription canceled/);
    expect(output).toMatch(/Notice3\s+✉ Your subscription is due to terminate/);
    // What routing came to, behind the webhook's queue, as the README's sample shows it.
    expect(output).toMatch(/Alan Turing\s+webhook\s+invoice\.payment_failed: case opened/);
    expect(output).toMatch(/Ada Lovelace\s+CardUpdated\s+new card charged at once: paid; ✉ Thank you\s+recovered/);
    // Two recoveries and a termination are normal operation: no alarm of the stack may move.
    expect(output).toMatch(/^alarms: none of the stack's \d+ alarms saw its metric move$/m);
    expect(output).toContain(`console                 http://127.0.0.1:${product.ports.app}/console`);
    const consolePage = await fetch(`http://127.0.0.1:${product.ports.app}/console/data`);
    expect(((await consolePage.json()) as { cases: unknown[] }).cases).toHaveLength(3);
    expect(await subjectsTo(sesUrl, 'ada@example.com')).toEqual([SUBJECTS.notice1, SUBJECTS.recovered]);
    expect(await subjectsTo(sesUrl, 'grace@example.com')).toEqual([
      SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.recovered,
    ]);
    expect(await subjectsTo(sesUrl, 'alan@example.com')).toEqual([
      SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended,
    ]);

    const code = await product.stop('SIGINT');
    expect(code).toBe(0);
    expect(product.output()).toMatch(/stopped/);
  });

  it('dunns a test-clock renewal driven through the Stripe SDK, shows the banner, and recovers after notice 2', async () => {
    product = await startProduct({ DUNNING_DAY_MS: '200' }, ['--no-demo']);
    await product.waitForLine(/^ready$/, 30_000);
    const app = `http://127.0.0.1:${product.ports.app}`;
    const sesUrl = `http://127.0.0.1:${product.ports.ses}`;
    const stripe = harnessStripe(LOCAL_STRIPE_KEY, `http://127.0.0.1:${product.ports.stripe}`);
    const subscriber = await subscribeWithDecliningCard(stripe, 'Manual Driver');

    await renew(stripe, subscriber);
    const bannerUrl = `${app}/customers/${subscriber.customerId}/notice`;
    const auth = { authorization: `Bearer ${LOCAL_BANNER_TOKEN}` };
    const banner = await waitFor(async () => {
      const response = await fetch(bannerUrl, { headers: auth });
      return response.status === 200 ? ((await response.json()) as { headline: string; severity: string; action: { url: string } }) : undefined;
    }, 10_000, 'the My Account banner');
    expect(banner.headline).toBe(SUBJECTS.notice1);
    expect(banner.severity).toBe('info');
    expect(banner.action.url).toMatch(new RegExp(`^http://127.0.0.1:${product.ports.app}/u/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    expect((await fetch(bannerUrl)).status).toBe(401);

    await waitFor(async () => (await subjectsTo(sesUrl, subscriber.email)).includes(SUBJECTS.notice2), 10_000, 'notice 2');
    await putInWorkingCard(stripe, subscriber.customerId);
    await waitFor(async () => (await subjectsTo(sesUrl, subscriber.email)).includes(SUBJECTS.recovered), 10_000, 'the confirmation');

    const cases = (await (await fetch(`${app}/cases`)).json()) as { cases: Array<{ invoiceId: string; status: string; subscriptionId: string }> };
    const dunningCase = cases.cases.find((c) => c.subscriptionId === subscriber.subscriptionId);
    expect(dunningCase?.status).toBe('recovered');
    expect(await subjectsTo(sesUrl, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.recovered]);
    expect((await stripe.subscriptions.retrieve(subscriber.subscriptionId)).status).toBe('active');
    expect((await fetch(bannerUrl, { headers: auth })).status).toBe(204);
  });

  it('carries an open case across a restart with DUNNING_DATA_DIR, without sending a notice twice', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dunning-data-'));
    const env = { DUNNING_DAY_MS: '300', DUNNING_DATA_DIR: dataDir };
    product = await startProduct(env, ['--no-demo']);
    await product.waitForLine(/^ready$/, 30_000);
    const ports = product.ports;
    const stripe = harnessStripe(LOCAL_STRIPE_KEY, `http://127.0.0.1:${ports.stripe}`);
    const subscriber = await subscribeWithDecliningCard(stripe, 'Survives Restart');
    await renew(stripe, subscriber);
    await waitFor(async () => (await subjectsTo(`http://127.0.0.1:${ports.ses}`, subscriber.email)).includes(SUBJECTS.notice1), 10_000, 'notice 1');

    const firstExit = await product.stop('SIGINT');
    if (firstExit !== 0) console.error(product.output().slice(-3000));
    expect(firstExit).toBe(0);
    product = await startProduct(env, ['--no-demo'], ports);
    await product.waitForLine(/^ready$/, 30_000);
    // The resumed execution carries on: Retry1 declines, then Notice2 goes out, and Notice1 is not re-sent.
    const sent = await waitFor(async () => {
      const subjects = await subjectsTo(`http://127.0.0.1:${ports.ses}`, subscriber.email);
      return subjects.includes(SUBJECTS.notice2) ? subjects : undefined;
    }, 15_000, 'notice 2 from the resumed execution');

    expect(product.output()).toMatch(/resumed 1 open case\(s\)/);
    // The SES inbox is in memory, so it holds only what the second run sent.
    expect(sent).toEqual([SUBJECTS.notice2]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('names the policy file it loaded: the shipped default, or the one DUNNING_POLICY_FILE gives', async () => {
    product = await startProduct({ DUNNING_DAY_MS: '200' }, ['--no-demo']);
    await product.waitForLine(/^ready$/, 30_000);
    expect(product.output()).toContain(`  policy file             ${DEFAULT_POLICY_FILE} (the default; DUNNING_POLICY_FILE names another)`);
    await product.stop('SIGKILL');

    const file = writePolicyFile(shortPolicy());
    product = await startProduct({ DUNNING_DAY_MS: '200', DUNNING_POLICY_FILE: file }, ['--no-demo']);
    await product.waitForLine(/^ready$/, 30_000);
    expect(product.output()).toContain(`  policy file             ${file} (DUNNING_POLICY_FILE)`);
  });

  it('refuses a bad setting with a message that names the variable', async () => {
    product = await startProduct({ DUNNING_DAY_MS: 'soon' });

    await expect(product.waitForLine(/^ready$/, 15_000)).rejects.toThrow(/DUNNING_DAY_MS="soon": .*number/);
    expect(product.child.exitCode).toBe(2);
  });
});
