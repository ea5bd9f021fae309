// The one-click link endpoint's dependencies (open-payment-link): the table (case and rate limit),
// Stripe, and the link signing key. No SES, no state machine.
import { DynamoCaseStore } from '#shared/adapters/dynamodb/case-store.ts';
import { DynamoRateLimiter } from '#shared/adapters/dynamodb-rate-limiter.ts';
import { resolveSecret } from '#shared/adapters/secrets.ts';
import { createStripeClient, StripeGateway } from '#shared/adapters/stripe-gateway.ts';
import { PaymentLinkConfigSchema, readConfig } from '#shared/config.ts';
import { systemClock } from '#shared/domain/ports.ts';
import { policyOf } from '#shared/dunning/deps.ts';
import type { PaymentLinkDeps } from '#shared/dunning/payment-link.ts';
import { DEFAULT_POLICY_NAME } from '#shared/policy/segments.ts';
import { once, SECRET_HOLDER_MAX_AGE_MS, tracedDocumentClient } from './lambda-deps.ts';
import { PACING_WAIT_MS, stripePacer } from './pacing.ts';
import { policiesFromEnvironment } from './policy-env.ts';
import { logger } from './powertools.ts';

export const paymentLinkDeps = once(async (): Promise<PaymentLinkDeps & { brandName: string }> => {
  const config = readConfig(PaymentLinkConfigSchema);
  const policies = policiesFromEnvironment();
  const policy = policies.policies[DEFAULT_POLICY_NAME]!;
  const documentClient = tracedDocumentClient();
  const apiKey = await resolveSecret(config.stripeApiKey);
  // The customer is waiting on the click: a short wait for room, then the page says try again.
  const stripe = createStripeClient({ apiKey, apiBase: config.stripeApiBase, pacer: stripePacer(documentClient, config.tableName, apiKey, PACING_WAIT_MS.interactive) });
  return {
    store: new DynamoCaseStore(documentClient, config.tableName),
    stripe: new StripeGateway(stripe),
    limiter: new DynamoRateLimiter(documentClient, config.tableName),
    signingKey: await resolveSecret(config.linkSigningKey),
    myAccountUrl: policy.brand.myAccountUrl,
    myAccountUrlOf: (dunningCase) => policyOf({ policy, policies }, dunningCase).brand.myAccountUrl,
    brandName: policy.brand.productName,
    clock: systemClock,
    log: logger,
  };
}, { maxAgeMs: SECRET_HOLDER_MAX_AGE_MS });
