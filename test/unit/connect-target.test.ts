// `dunning connect --local` with the local runtime on real Stripe test mode: Stripe cannot post to a
// loopback address, so connect says how to forward events instead of making an endpoint Stripe
// would refuse (or one that can never be reached).
import { describe, expect, it } from 'vitest';
import { connectTarget } from '#cli/connect-target.ts';
import type { OperatorDeps } from '#cli/deps.ts';
import { CliError } from '#cli/errors.ts';
import type { Target } from '#cli/target.ts';
import { singlePolicySet } from '#shared/policy/segments.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';

const local = (env: Record<string, string>): Target => ({
  label: 'local http://127.0.0.1:3000',
  metrics: 'none',
  policies: singlePolicySet(loadPolicyFile()),
  env,
  webhook: { url: 'http://127.0.0.1:3000/webhook', signingSecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:Hook' },
});

describe('dunning connect against the local runtime', () => {
  it('refuses with real Stripe test mode, naming stripe listen, and touches no endpoint', async () => {
    const untouched = new Proxy({}, { get: () => { throw new Error('no Stripe call expected'); } }) as OperatorDeps;

    const error = await connectTarget(untouched, local({ STRIPE_API_KEY: 'sk_test_real' }), () => {}).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toContain('stripe listen --forward-to http://127.0.0.1:3000/webhook');
  });
});
