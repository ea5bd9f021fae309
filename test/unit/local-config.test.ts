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
