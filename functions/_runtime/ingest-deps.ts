// The routers' dependencies (route-events behind the webhook's queue, handle-eventbridge): a stage's,
// plus the state machine to start and the dedupe of Stripe event ids.
import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import { createDynamoDocumentClient, createSfnClient } from '#shared/adapters/aws-clients.ts';
import { createEventDedupe } from '#shared/adapters/processed-events.ts';
import { resolveSecret } from '#shared/adapters/secrets.ts';
import { StepFunctionsWorkflow } from '#shared/adapters/sfn-workflow.ts';
import { IngestConfigSchema, readConfig } from '#shared/config.ts';
import { ingestStripeEvent } from '#shared/dunning/ingest.ts';
import type { IngestDeps } from '#shared/dunning/route-events.ts';
import { once, SECRET_HOLDER_MAX_AGE_MS } from './lambda-deps.ts';
import { logger, powertoolsMetrics } from './powertools.ts';
import { tracer } from './tracer.ts';
import { stageDeps } from './stage-deps.ts';

/**
 * What both ingest paths share: the router, and one dedupe over the same records, so an event that
 * arrives by the webhook and by EventBridge is processed once.
 */
export const ingestDeps = once(async (): Promise<IngestDeps> => {
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
    log: logger,
    metrics: powertoolsMetrics,
    processOnce,
    registerDeadline: (context) => dedupe.config.registerLambdaContext(context as Context),
  };
}, { maxAgeMs: SECRET_HOLDER_MAX_AGE_MS });

/** The router behind the webhook's queue. */
export const routeEventsDeps = ingestDeps;

/** The EventBridge ingest: the same router and dedupe; nothing is signed on that path. */
export const eventBridgeDeps = ingestDeps;
