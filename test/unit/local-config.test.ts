// The local runtime's delivery settings: Stripe's delivery by default with a replayable seed,
// ordered on request, and a bad value named by its variable.
import { describe, expect, it } from 'vitest';
import { readLocalConfig } from '#local/config.ts';

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
