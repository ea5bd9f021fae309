// The ingest functions' dependencies (handle-webhook, handle-eventbridge): a stage's, plus the state
// machine to start and the dedupe of Stripe event ids.
import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import { createDynamoDocumentClient, createSfnClient } from '#shared/adapters/aws-clients.ts';
import { createEventDedupe } from '#shared/adapters/processed-events.ts';
import { resolveSecret } from '#shared/adapters/secrets.ts';
import { StepFunctionsWorkflow } from '#shared/adapters/sfn-workflow.ts';
import { createStripeClient } from '#shared/adapters/stripe-gateway.ts';
import { IngestConfigSchema, readConfig, WebhookConfigSchema } from '#shared/config.ts';
import { ingestStripeEvent } from '#shared/dunning/ingest.ts';
import type { WebhookDeps } from '#shared/dunning/webhook.ts';
import { once, SECRET_HOLDER_MAX_AGE_MS } from './lambda-deps.ts';
import { logger, powertoolsMetrics, tracer } from './powertools.ts';
import { stageDeps } from './stage-deps.ts';

/**
 * What both ingest paths share: the router, and one dedupe over the same records, so an event that
 * arrives by the webhook and by EventBridge is processed once.
 */
const ingestDeps = once(async (): Promise<Omit<WebhookDeps, 'verify'> & { apiKey: string; apiBase?: string }> => {
  const config = readConfig(IngestConfigSchema);
  const base = await stageDeps();
  const apiKey = await resolveSecret(config.stripeApiKey);
  const sfn = createSfnClient();
  tracer.captureAWSv3Client(sfn);
  const deps = {
    ...base,
    workflow: new StepFunctionsWorkflow(sfn, config.stateMachineArn),
    livemode: /^(sk|rk)_live_/.test(apiKey),
  };
  const dedupe = createEventDedupe({ client: createDynamoDocumentClient({}), tableName: config.tableName, ttlDays: config.eventTtlDays });
  const processOnce = makeIdempotent(
    (event: Parameters<typeof ingestStripeEvent>[1]) => ingestStripeEvent(deps, event),
    dedupe,
  );
  return {
    apiKey,
    apiBase: config.stripeApiBase,
    log: logger,
    metrics: powertoolsMetrics,
    processOnce,
    registerDeadline: (context) => dedupe.config.registerLambdaContext(context as Context),
  };
}, { maxAgeMs: SECRET_HOLDER_MAX_AGE_MS });

export const webhookDeps = once(async (): Promise<WebhookDeps> => {
  const config = readConfig(WebhookConfigSchema);
  const { apiKey, apiBase, ...shared } = await ingestDeps();
  const signingSecret = await resolveSecret(config.stripeWebhookSecret);
  const stripe = createStripeClient({ apiKey, apiBase });
  return { ...shared, verify: (rawBody, signature) => stripe.webhooks.constructEvent(rawBody, signature, signingSecret) };
}, { maxAgeMs: SECRET_HOLDER_MAX_AGE_MS });

/** The EventBridge ingest: the webhook's router and dedupe, but no signing secret, since nothing is signed. */
export const eventBridgeDeps = once(async (): Promise<Omit<WebhookDeps, 'verify'>> => {
  const { apiKey: _apiKey, apiBase: _apiBase, ...shared } = await ingestDeps();
  return shared;
}, { maxAgeMs: SECRET_HOLDER_MAX_AGE_MS });
