// Each `dunning doctor` check made to fail, for the faults the local runtime cannot produce (an SES
// identity not verified, the SES sandbox, an unconfirmed alarm subscription, a placeholder key in
// Secrets Manager, a webhook that refuses the test event): the ports are stand-ins here; the
// all-green run and the faults the runtime can show are in test/e2e/connect-doctor.test.ts.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { formatDoctor, runDoctor, type CheckResult, type DoctorDeps } from '#cli/doctor.ts';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { verifyStripeSignature } from '#shared/dunning/stripe-signature.ts';

const URL_ = 'https://abc.lambda-url.eu-west-1.on.aws/';
const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:1:secret:ApiKey';
const HOOK_ARN = 'arn:aws:secretsmanager:eu-west-1:1:secret:Hook';
const SIGNING = 'whsec_0123456789abcdefABCDEF';

function stripeWith(endpoints: Array<Partial<Stripe.WebhookEndpoint>>): Stripe {
  return {
    webhookEndpoints: {
      list: () => ({
        async *[Symbol.asyncIterator]() {
          yield* endpoints;
        },
      }),
    },
  } as unknown as Stripe;
}

const goodEndpoint = { id: 'we_1', url: URL_, status: 'enabled', enabled_events: [...HANDLED_EVENT_TYPES], api_version: '2026-10-28.endive' };

/** A stack that passes every check; `change` breaks one thing. */
function deps(change: Partial<DoctorDeps> = {}, secrets: Record<string, string> = {}): DoctorDeps {
  const stored: Record<string, string> = { [KEY_ARN]: 'rk_live_abcdefghijkl', [HOOK_ARN]: SIGNING, ...secrets };
  return {
    stripeKey: { secretArn: KEY_ARN },
    webhook: { url: URL_, signingSecretArn: HOOK_ARN },
    readSecret: async (arn) => stored[arn],
    stripeFor: () => stripeWith([goodEndpoint]),
    expectedMode: 'live',
    sender: 'billing@acme.com',
    ses: { identityVerified: async (identity) => (identity === 'acme.com' ? true : undefined), account: async () => ({ productionAccess: true, sendingEnabled: true }) },
    alarms: { topicArn: 'arn:aws:sns:eu-west-1:1:Alarms', list: async () => [{ protocol: 'email', endpoint: 'oncall@acme.com', pending: false }] },
    post: async (_url, body, headers) => {
      verifyStripeSignature(body, headers['stripe-signature']!, stored[HOOK_ARN]!);
      return { status: 200, body: '{"received":true}' };
    },
    ...change,
  };
}

const byName = (results: CheckResult[], name: string) => results.find((r) => r.name === name)!;

describe('dunning doctor', () => {
  it('passes every check of a stack that is ready, and signs the test event as Stripe does', async () => {
    const results = await runDoctor(deps());
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['Stripe key', 'pass'],
      ['webhook secret', 'pass'],
      ['Stripe mode', 'pass'],
      ['webhook endpoint', 'pass'],
      ['SES sender', 'pass'],
      ['SES account', 'pass'],
      ['alarm subscription', 'pass'],
      ['test event', 'pass'],
    ]);
    expect(formatDoctor(results).every((line) => line.startsWith('✓ '))).toBe(true);
  });

  it('fails the key check on the deploy placeholder, with the put-secret-value to run, and checks nothing against Stripe', async () => {
    const results = await runDoctor(deps({}, { [KEY_ARN]: 'Xq9PlaceholderGeneratedByDeploy00' }));
    expect(byName(results, 'Stripe key')).toMatchObject({ status: 'fail', fix: expect.stringContaining(`put-secret-value --secret-id ${KEY_ARN}`) });
    expect(byName(results, 'webhook endpoint')).toMatchObject({ status: 'fail', fix: 'fix the Stripe key first' });
    expect(JSON.stringify(results)).not.toContain('Xq9Placeholder');
  });

  it('fails the endpoint check when no endpoint posts to the URL, or two do', async () => {
    const none = await runDoctor(deps({ stripeFor: () => stripeWith([{ ...goodEndpoint, url: 'https://elsewhere.example/hook' }]) }));
    expect(byName(none, 'webhook endpoint')).toMatchObject({ status: 'fail', detail: `no webhook endpoint in Stripe posts to ${URL_}`, fix: 'npx dunning connect' });
    const two = await runDoctor(deps({ stripeFor: () => stripeWith([goodEndpoint, { ...goodEndpoint, id: 'we_2' }]) }));
    expect(byName(two, 'webhook endpoint')).toMatchObject({ status: 'fail', detail: expect.stringContaining('every event arrives more than once') });
  });

  it('fails the sender check for an identity SES has not verified, or does not have', async () => {
    const pending = await runDoctor(deps({ ses: { ...deps().ses, identityVerified: async (identity) => (identity === 'acme.com' ? false : undefined) } }));
    expect(byName(pending, 'SES sender')).toMatchObject({ status: 'fail', detail: 'acme.com is not verified yet', fix: expect.stringContaining('create-email-identity --email-identity acme.com') });
    const missing = await runDoctor(deps({ ses: { ...deps().ses, identityVerified: async () => undefined } }));
    expect(byName(missing, 'SES sender')).toMatchObject({ status: 'fail', detail: 'neither billing@acme.com nor acme.com is an SES identity in this region' });
  });

  it('fails the account check in the SES sandbox, and when sending is paused', async () => {
    const sandbox = await runDoctor(deps({ ses: { ...deps().ses, account: async () => ({ productionAccess: false, sendingEnabled: true }) } }));
    expect(byName(sandbox, 'SES account')).toMatchObject({ status: 'fail', fix: expect.stringContaining('Request production access') });
    const paused = await runDoctor(deps({ ses: { ...deps().ses, account: async () => ({ productionAccess: true, sendingEnabled: false }) } }));
    expect(byName(paused, 'SES account')).toMatchObject({ status: 'fail', detail: 'sending is paused on this SES account' });
  });

  it('fails the alarm check while the subscription awaits its confirmation, and when there is none', async () => {
    const alarms = deps().alarms!;
    const pending = await runDoctor(deps({ alarms: { ...alarms, list: async () => [{ protocol: 'email', endpoint: 'oncall@acme.com', pending: true }] } }));
    expect(byName(pending, 'alarm subscription')).toMatchObject({ status: 'fail', fix: expect.stringContaining('Subscription Confirmation') });
    const none = await runDoctor(deps({ alarms: { ...alarms, list: async () => [] } }));
    expect(byName(none, 'alarm subscription')).toMatchObject({ status: 'fail', fix: expect.stringContaining('aws sns subscribe') });
  });

  it('fails the test event when the webhook refuses its signature, having tried once more after the webhook could read the secret again', async () => {
    const waits: number[] = [];
    let posts = 0;
    const refused = await runDoctor(
      deps({
        post: async () => {
          posts++;
          return { status: 400, body: '{"error":"signature verification failed: No signatures found"}' };
        },
        sleep: async (ms) => void waits.push(ms),
      }),
    );
    expect(byName(refused, 'test event')).toMatchObject({ status: 'fail', detail: expect.stringContaining('checks signatures with another secret') });
    expect([posts, waits]).toEqual([2, [11_000]]);
  });

  it('passes the test event that a webhook takes once it has read the new secret', async () => {
    let posts = 0;
    const results = await runDoctor(deps({ post: async () => (++posts === 1 ? { status: 400, body: 'signature verification failed' } : { status: 200, body: '{}' }), sleep: async () => {} }));
    expect(byName(results, 'test event').status).toBe('pass');
  });

  it('fails the test event when nothing answers', async () => {
    const down = await runDoctor(deps({ post: async () => Promise.reject(new Error('fetch failed')) }));
    expect(byName(down, 'test event')).toMatchObject({ status: 'fail', detail: `no answer from ${URL_}: fetch failed` });
  });
});
