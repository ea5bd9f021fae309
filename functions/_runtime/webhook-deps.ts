// The webhook's dependencies: the signing secret and the event queue, nothing more. No table, Stripe
// client, state machine, SES or tracer: those are the router's (route-events), behind the queue.
// No AWS SDK client either: both calls are signed requests (shared/adapters/aws-json-call.ts).
import { SqsEventInbox } from '#shared/adapters/sqs-inbox.ts';
import { readSecretString, RefreshableSecret } from '#shared/adapters/secret-string.ts';
import { readConfig, WebhookConfigSchema } from '#shared/config.ts';
import { verifyStripeSignature } from '#shared/dunning/stripe-signature.ts';
import type { WebhookDeps } from '#shared/dunning/webhook.ts';
import { once, SECRET_HOLDER_MAX_AGE_MS } from './once.ts';
import { logger, powertoolsMetrics } from './powertools.ts';

/** At most one re-read of the signing secret per container in this long, whatever arrives. */
export const WEBHOOK_SECRET_MIN_REFRESH_MS = 10_000;

export const webhookDeps = once(async (): Promise<WebhookDeps> => {
  const config = readConfig(WebhookConfigSchema);
  const signingSecret = await RefreshableSecret.load(() => readSecretString(config.stripeWebhookSecret), { minRefreshMs: WEBHOOK_SECRET_MIN_REFRESH_MS });
  const inbox = new SqsEventInbox(config.eventQueueUrl);
  return {
    log: logger,
    metrics: powertoolsMetrics,
    verify: (rawBody, signature) => verifyStripeSignature(rawBody, signature, signingSecret.current),
    refreshSecret: () => signingSecret.refresh(),
    inbox,
  };
}, { maxAgeMs: SECRET_HOLDER_MAX_AGE_MS });
