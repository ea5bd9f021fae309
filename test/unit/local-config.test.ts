// The local runtime's sandbox account and webhook delivery: the account configured as the README's
// deploy step 4 tells a merchant (retries off, the subscription left past due after them), Stripe's
// delivery by default with a replayable seed, env vars to try Stripe's own defaults or ordered
// delivery, and a bad value named by its variable.
import { describe, expect, it } from 'vitest';
import { readLocalConfig } from '../../local/config.ts';

describe('the local runtime sandbox account', () => {
  it('leaves the subscription past due after the retries, as deploy step 4 asks, with retries off', () => {
    expect(readLocalConfig({})).toMatchObject({ stripeRetryDays: [], stripeEndOfRetries: 'past_due' });
  });

  it('takes STRIPE_SANDBOX_END_OF_RETRIES to try Stripe default (cancel) or unpaid', () => {
    expect(readLocalConfig({ STRIPE_SANDBOX_END_OF_RETRIES: 'cancel' }).stripeEndOfRetries).toBe('cancel');
    expect(readLocalConfig({ STRIPE_SANDBOX_END_OF_RETRIES: 'unpaid', STRIPE_SANDBOX_RETRY_DAYS: '1,3' })).toMatchObject({
      stripeEndOfRetries: 'unpaid',
      stripeRetryDays: [1, 3],
    });
  });

  it('refuses another value, naming the variable', () => {
    expect(() => readLocalConfig({ STRIPE_SANDBOX_END_OF_RETRIES: 'delete' })).toThrow(/STRIPE_SANDBOX_END_OF_RETRIES="delete"/);
  });
});

describe('readLocalConfig, webhook delivery', () => {
  it('delivers as Stripe does by default, with a seed of its own', () => {
    const config = readLocalConfig({});

    expect(config.stripeDelivery).toBe('stripe');
    expect(Number.isInteger(config.stripeDeliverySeed)).toBe(true);
  });

  it('takes ordered delivery and a seed from the environment', () => {
    const config = readLocalConfig({ STRIPE_SANDBOX_DELIVERY: 'ordered', STRIPE_SANDBOX_DELIVERY_SEED: '42' });

    expect(config).toMatchObject({ stripeDelivery: 'ordered', stripeDeliverySeed: 42 });
  });

  it('names the variable of a bad value', () => {
    expect(() => readLocalConfig({ STRIPE_SANDBOX_DELIVERY: 'sometimes' })).toThrow(/STRIPE_SANDBOX_DELIVERY="sometimes"/);
    expect(() => readLocalConfig({ STRIPE_SANDBOX_DELIVERY_SEED: 'x' })).toThrow(/STRIPE_SANDBOX_DELIVERY_SEED="x"/);
  });
});

describe('readLocalConfig, STRIPE_SANDBOX_RATE_LIMITS', () => {
  it("holds the sandbox to Stripe's test-mode rate limits unless told otherwise", () => {
    expect(readLocalConfig({}).stripeRateLimits).toBe('test');
  });

  it('takes a preset or <global>/<perEndpoint> from the environment', () => {
    expect(readLocalConfig({ STRIPE_SANDBOX_RATE_LIMITS: 'live' }).stripeRateLimits).toBe('live');
    expect(readLocalConfig({ STRIPE_SANDBOX_RATE_LIMITS: 'off' }).stripeRateLimits).toBe('off');
    expect(readLocalConfig({ STRIPE_SANDBOX_RATE_LIMITS: '50/10' }).stripeRateLimits).toEqual({ global: 50, perEndpoint: 10 });
  });

  it('refuses anything else, naming the variable and what it takes', () => {
    expect(() => readLocalConfig({ STRIPE_SANDBOX_RATE_LIMITS: 'fast' })).toThrow(
      /STRIPE_SANDBOX_RATE_LIMITS="fast": rate limits must be test, live, off, or <global>\/<perEndpoint>/,
    );
    expect(() => readLocalConfig({ STRIPE_SANDBOX_RATE_LIMITS: '100/0' })).toThrow(/STRIPE_SANDBOX_RATE_LIMITS="100\/0": .*perEndpoint must be a whole number/);
  });
});

describe('readLocalConfig, DUNNING_EVENTS_URL', () => {
  it('forwards no event unless asked, and takes an http(s) URL', () => {
    expect(readLocalConfig({}).eventsUrl).toBeUndefined();
    expect(readLocalConfig({ DUNNING_EVENTS_URL: 'http://127.0.0.1:4000/events' }).eventsUrl).toBe('http://127.0.0.1:4000/events');
    expect(readLocalConfig({ DUNNING_EVENTS_URL: 'https://hooks.example.com/dunning' }).eventsUrl).toBe('https://hooks.example.com/dunning');
  });

  it('refuses anything else in one line naming the variable', () => {
    for (const value of ['127.0.0.1:4000/events', 'ftp://example.com/x', 'not a url']) {
      expect(() => readLocalConfig({ DUNNING_EVENTS_URL: value })).toThrow(
        `Invalid local configuration: DUNNING_EVENTS_URL=${JSON.stringify(value)}: must be an http(s) URL, e.g. http://127.0.0.1:4000/events`,
      );
    }
  });
});
