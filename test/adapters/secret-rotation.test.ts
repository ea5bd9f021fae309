// A rolled secret reaches a warm container: the webhook's dependencies hold the signing secret and
// the Stripe key, and are built again once they are older than the secret cache, so a delivery
// signed with the new secret is accepted within SECRET_MAX_AGE_SECONDS, not only after a cold start.
// Secrets Manager is a loopback stand-in (helpers.ts); its own file, as
// the handlers' dependencies are per process.
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV, SECRET_MAX_AGE_SECONDS } from '#shared/config.ts';
import { once } from '#functions/_runtime/lambda-deps.ts';
import { defaultPolicy } from '../fixtures/policies.ts';
import { startFakeSecretsManager, type FakeSecretsManager } from './helpers.ts';

const WEBHOOK_ARN = 'arn:aws:secretsmanager:eu-west-1:1:secret:webhook';
const API_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:1:secret:api-key';
let secretsManager: FakeSecretsManager;

beforeAll(async () => {
  secretsManager = await startFakeSecretsManager({ [WEBHOOK_ARN]: 'whsec_first', [API_KEY_ARN]: 'sk_test_first' });
  Object.assign(process.env, {
    [ENV.tableName]: 'dunning',
    [ENV.stateMachineArn]: 'arn:aws:states:eu-west-1:1:stateMachine:dunning',
    [ENV.stripeApiKeySecretArn]: API_KEY_ARN,
    [ENV.stripeWebhookSecretArn]: WEBHOOK_ARN,
    [ENV.policyJson]: JSON.stringify(defaultPolicy()),
    [ENV.eventQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/1/events',
  });
});

afterAll(async () => {
  await secretsManager?.close();
});

afterEach(() => {
  vi.useRealTimers();
});

const signed = (payload: string, secret: string) => Stripe.webhooks.generateTestHeaderString({ payload, secret });

describe('once with maxAgeMs', () => {
  it('builds once while fresh, again once older than maxAgeMs, and retries a failed build at once', async () => {
    let clock = 0;
    let builds = 0;
    let fail = false;
    const get = once(async () => {
      builds += 1;
      if (fail) throw new Error('Secrets Manager hiccup');
      return builds;
    }, { maxAgeMs: 1000, now: () => clock });

    expect(await get()).toBe(1);
    clock = 999;
    expect(await get()).toBe(1);
    clock = 1000;
    fail = true;
    await expect(get()).rejects.toThrow('hiccup');
    fail = false;
    expect(await get()).toBe(3);
  });
});

describe('the webhook after the signing secret is rolled', () => {
  it('accepts deliveries signed with the new secret once the old dependencies age out', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-03-01T12:00:00.000Z') });
    const { webhookDeps } = await import('#functions/_runtime/webhook-deps.ts');
    const payload = JSON.stringify({ id: 'evt_1', object: 'event' });

    const first = await webhookDeps();
    expect(() => first.verify(payload, signed(payload, 'whsec_first'))).not.toThrow();

    secretsManager.secrets[WEBHOOK_ARN] = 'whsec_second';
    vi.setSystemTime(Date.now() + 60_000);
    // Within the cache's age the container still knows only the first secret.
    expect(() => first.verify(payload, signed(payload, 'whsec_second'))).toThrow();
    expect(await webhookDeps()).toBe(first);

    vi.setSystemTime(Date.now() + SECRET_MAX_AGE_SECONDS * 1000);
    const renewed = await webhookDeps();

    expect(renewed).not.toBe(first);
    expect(() => renewed.verify(payload, signed(payload, 'whsec_second'))).not.toThrow();
    expect(() => renewed.verify(payload, signed(payload, 'whsec_first'))).toThrow();
  });
});
