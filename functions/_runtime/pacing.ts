// The request budget every function that calls Stripe or sends email shares (RequestPacer), built
// from DUNNING_STRIPE_BUDGET / DUNNING_EMAIL_BUDGET or, unset, from the defaults for the key's mode.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoRateLimiter } from '#shared/adapters/dynamodb-rate-limiter.ts';
import { RequestPacer, type RequestBudget } from '#shared/adapters/request-pacer.ts';
import { BudgetConfigSchema, EMAIL_BUDGET_DEFAULT, readConfig, STRIPE_BUDGET_DEFAULTS } from '#shared/config.ts';

export { PACING_WAIT_MS } from '#shared/config.ts';

/** The Stripe budget for `apiKey`'s mode, as configured or by default. */
export function stripeBudgetFor(apiKey: string, env: NodeJS.ProcessEnv = process.env): RequestBudget {
  const configured = readConfig(BudgetConfigSchema, env).stripeBudget;
  const defaults = /^(sk|rk)_live_/.test(apiKey) ? STRIPE_BUDGET_DEFAULTS.live : STRIPE_BUDGET_DEFAULTS.test;
  if (!configured) return { ...defaults };
  // Without its own figure, an endpoint keeps the default's share, never above the account's.
  return { perSecond: configured.perSecond, perEndpointPerSecond: configured.perEndpointPerSecond ?? Math.min(configured.perSecond, defaults.perEndpointPerSecond) };
}

export function stripePacer(documentClient: DynamoDBDocumentClient, tableName: string, apiKey: string, maxWaitMs: number): RequestPacer {
  return new RequestPacer(new DynamoRateLimiter(documentClient, tableName), { name: 'stripe', budget: stripeBudgetFor(apiKey), maxWaitMs });
}

export function emailPacer(documentClient: DynamoDBDocumentClient, tableName: string, maxWaitMs: number): RequestPacer {
  const perSecond = readConfig(BudgetConfigSchema).emailBudget ?? EMAIL_BUDGET_DEFAULT;
  return new RequestPacer(new DynamoRateLimiter(documentClient, tableName), { name: 'ses', budget: { perSecond }, maxWaitMs });
}
