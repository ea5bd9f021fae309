// The access API's dependencies (get-access): the table (read only), the policies (their `access`
// blocks), and Stripe's list of the customer's subscriptions. No SES, no state machine.
import { resolveSecret } from '#shared/adapters/secrets.ts';
import { createStripeClient, StripeGateway } from '#shared/adapters/stripe-gateway.ts';
import { ENV, readConfig, StageConfigSchema } from '#shared/config.ts';
import { compressedCaseClock } from '#shared/domain/case-clock.ts';
import { systemClock } from '#shared/domain/ports.ts';
import type { CustomerAccessDeps } from '#shared/dunning/customer-access.ts';
import { DEFAULT_POLICY_NAME } from '#shared/policy/segments.ts';
import { once, SECRET_HOLDER_MAX_AGE_MS, tracedDocumentClient } from './lambda-deps.ts';
import { PACING_WAIT_MS, stripePacer } from './pacing.ts';
import { policiesFromEnvironment } from './policy-env.ts';
import { tableStore } from './table-deps.ts';

export const accessDeps = once(async (): Promise<CustomerAccessDeps> => {
  const config = readConfig(StageConfigSchema);
  const policies = policiesFromEnvironment();
  const apiKey = await resolveSecret(config.stripeApiKey);
  const store = await tableStore();
  // The merchant's app is waiting on this answer: a short wait for room, then 503 and Retry-After.
  const pacer = stripePacer(tracedDocumentClient(), config.tableName, apiKey, PACING_WAIT_MS.interactive);
  const stripe = createStripeClient({ apiKey, apiBase: config.stripeApiBase, pacer });
  // Locally a policy day is DUNNING_LOCAL_DAY_MS, as the stages count it; in AWS, unset.
  const localDayMs = Number(process.env[ENV.localDayMs]);
  return {
    store,
    stripe: new StripeGateway(stripe),
    policy: policies.policies[DEFAULT_POLICY_NAME]!,
    policies,
    clock: systemClock,
    ...(localDayMs > 0 ? { caseClock: (c) => compressedCaseClock(c, localDayMs) } : {}),
  };
}, { maxAgeMs: SECRET_HOLDER_MAX_AGE_MS });
