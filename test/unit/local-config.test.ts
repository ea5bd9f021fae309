// The local runtime's account settings for the sandbox: configured as the README's deploy step 3
// tells a merchant (retries off, the subscription left past due after them), with env vars to try
// Stripe's own defaults.
import { describe, expect, it } from 'vitest';
import { readLocalConfig } from '../../local/config.ts';

describe('the local runtime sandbox account', () => {
  it('leaves the subscription past due after the retries, as deploy step 3 asks, with retries off', () => {
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
