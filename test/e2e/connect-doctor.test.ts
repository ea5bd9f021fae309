// `dunning connect --local`: the CLI (bin/dunning.mjs, a child process) makes the Stripe webhook
// endpoint through the sandbox's /v1/webhook_endpoints, with exactly the event types the product
// handles and the SDK's API version, and stores its signing secret in the local Secrets Manager
// where the webhook reads it; after that, Stripe's events reach the product through that endpoint.
// Idempotent, it repairs drift, and it never prints a secret. Then `dunning doctor --local` reports
// every check green, and the checks this runtime can break fail with their fix.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { caseFor, renew, startTestRuntime, subscribeWithDecliningCard, waitFor, type TestRuntime } from '../fixtures/scenario.ts';

const BIN = fileURLToPath(new URL('../../bin/dunning.mjs', import.meta.url));

function dunning(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let t: TestRuntime;
let secrets: SecretsManagerClient;
let secretArn: string;
let webhookUrl: string;
const connect = () => dunning(['--local', t.runtime.urls.app, 'connect']);
const storedSecret = async () => (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
const endpointsAtWebhook = async () => (await t.stripe.webhookEndpoints.list({ limit: 100 })).data.filter((e) => e.url === webhookUrl);

beforeAll(async () => {
  // The placeholder tests change the signing secret behind the webhook's back on purpose: the
  // deliveries in flight then fail their signature, which is what that alarm counts.
  t = await startTestRuntime({ dayMs: 2_000, expectAlarms: ['WebhookSignatureRejections'] });
  secretArn = t.runtime.deployment.secrets.webhookSigningSecret;
  webhookUrl = `${t.runtime.urls.app}/webhook`;
  secrets = new SecretsManagerClient({ region: 'us-east-1', endpoint: t.runtime.urls.secretsManager, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(async () => {
  secrets?.destroy();
  await t?.close();
});

describe('dunning connect --local', () => {
  it('creates the endpoint with every handled event type and the API version, stores its secret, and prints no secret', async () => {
    const before = await storedSecret();

    const run = await connect();

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [endpoint, ...others] = await endpointsAtWebhook();
    expect(others).toEqual([]);
    expect(endpoint).toMatchObject({ status: 'enabled', api_version: Stripe.API_VERSION });
    expect([...endpoint!.enabled_events].sort()).toEqual([...HANDLED_EVENT_TYPES].sort());
    const stored = await storedSecret();
    expect(stored).toMatch(/^whsec_/);
    expect(stored).not.toBe(before);
    expect(run.stdout).toContain(`created webhook endpoint ${endpoint!.id} for ${webhookUrl}, API version ${Stripe.API_VERSION}, ${HANDLED_EVENT_TYPES.length} event types`);
    expect(run.stdout).toContain(`stored its signing secret in ${secretArn}`);
    expect(run.stdout + run.stderr).not.toContain('whsec_');
  });

  it('changes nothing when run again, and says so', async () => {
    const [endpoint] = await endpointsAtWebhook();
    const stored = await storedSecret();

    const run = await connect();

    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(
      `nothing to change: webhook endpoint ${endpoint!.id} is enabled for ${webhookUrl} with the ${HANDLED_EVENT_TYPES.length} event types, API version ${Stripe.API_VERSION}, and its signing secret is stored`,
    );
    expect(await endpointsAtWebhook()).toHaveLength(1);
    expect(await storedSecret()).toBe(stored);
  });

  it("lets Stripe's events reach the product through the new endpoint, signed with its new secret", async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Connected Customer');
    await renew(t.stripe, subscriber);

    const opened = await waitFor(() => caseFor(t.runtime, subscriber.subscriptionId), 20_000, 'the case opened from the endpoint connect made');

    expect(opened.status).toBe('open');
  });

  it('puts back an event type and enables an endpoint someone changed in the Dashboard, keeping its secret', async () => {
    const [endpoint] = await endpointsAtWebhook();
    const stored = await storedSecret();
    await t.stripe.webhookEndpoints.update(endpoint!.id, {
      enabled_events: HANDLED_EVENT_TYPES.filter((type) => type !== 'invoice.paid') as Stripe.WebhookEndpointUpdateParams.EnabledEvent[],
      disabled: true,
    });

    const run = await connect();

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`updated ${endpoint!.id}'s event types: +invoice.paid`);
    expect(run.stdout).toContain(`enabled ${endpoint!.id} (it was disabled)`);
    const [after] = await endpointsAtWebhook();
    expect(after).toMatchObject({ id: endpoint!.id, status: 'enabled' });
    expect(after!.enabled_events).toContain('invoice.paid');
    expect(await storedSecret()).toBe(stored);
  });

  it('makes a new endpoint when the stored secret is not a signing secret (a fresh deploy holds a placeholder), and deletes the old one', async () => {
    const [old] = await endpointsAtWebhook();
    await secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: 'GeneratedPlaceholder0123456789ab' }));

    const run = await connect();

    expect(run.code).toBe(0);
    const [endpoint, ...others] = await endpointsAtWebhook();
    expect(others).toEqual([]);
    expect(endpoint!.id).not.toBe(old!.id);
    expect(await storedSecret()).toMatch(/^whsec_/);
    expect(run.stdout).toContain(`created webhook endpoint ${endpoint!.id}`);
    expect(run.stdout).toContain(`deleted webhook endpoint ${old!.id}, which pointed at the same URL`);
    expect(run.stdout + run.stderr).not.toContain('whsec_');
  });
});

describe('dunning doctor --local', () => {
  const doctor = (...extra: string[]) => dunning(['--local', t.runtime.urls.app, 'doctor', ...extra]);

  it('reports every check green after connect: one line each, nothing failed', async () => {
    await connect();

    const run = await doctor();

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(`dunning doctor: local ${t.runtime.urls.app}`);
    const checks = lines.slice(1).map((line) => line.split(':')[0]);
    expect(checks).toEqual(['✓ Stripe key', '✓ webhook secret', '✓ Stripe mode', '✓ webhook endpoint', '✓ SES sender', '✓ SES account', '– alarm subscription', '✓ test event']);
    expect(run.stdout).not.toMatch(/whsec_\w/);
    expect(run.stdout).not.toMatch(/sk_test_\w/);
  });

  it('fails the mode check when live mode is expected of a test key, with the fix', async () => {
    const run = await doctor('--mode', 'live');

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✗ Stripe mode: the key is for test mode; expected live — fix: put the live-mode key in its secret, or pass --mode test');
    expect(run.stderr).toContain('checks failed');
  });

  it('fails the endpoint check for a disabled endpoint, and connect puts it right', async () => {
    const [endpoint] = await endpointsAtWebhook();
    await t.stripe.webhookEndpoints.update(endpoint!.id, { disabled: true });

    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`✗ webhook endpoint: ${endpoint!.id} at ${webhookUrl} is disabled — fix: npx dunning connect`);

    await connect();
    expect((await doctor()).code).toBe(0);
  });

  it('fails the endpoint check for a missing event type', async () => {
    const [endpoint] = await endpointsAtWebhook();
    await t.stripe.webhookEndpoints.update(endpoint!.id, { enabled_events: HANDLED_EVENT_TYPES.filter((type) => type !== 'invoice.voided') as Stripe.WebhookEndpointUpdateParams.EnabledEvent[] });

    const run = await doctor();

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`✗ webhook endpoint: ${endpoint!.id} is not sent invoice.voided — fix: npx dunning connect`);
    await connect();
  });

  it('fails the secret and test-event checks while the webhook secret holds a placeholder', async () => {
    await secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: 'GeneratedPlaceholder0123456789ab' }));

    const run = await doctor();

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`✗ webhook secret: the secret ${secretArn} holds no signing secret (still the deploy placeholder?) — fix: npx dunning connect`);
    expect(run.stdout).toContain('✗ test event: not sent: no signing secret to sign it with — fix: npx dunning connect');
    await connect();
    expect((await doctor()).code).toBe(0);
  });
});
