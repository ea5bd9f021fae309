// The webhook's dependencies: the signing secret and the event queue, nothing more. No table, Stripe
// client, state machine, SES or tracer: those are the router's (route-events), behind the queue.
// No AWS SDK client either: both calls are signed requests (shared/adapters/aws-json-call.ts).
import { SqsEventInbox } from '#shared/adapters/sqs-inbox.ts';
import { readSecretString } from '#shared/adapters/secret-string.ts';
import { readConfig, WebhookConfigSchema } from '#shared/config.ts';
import { verifyStripeSignature } from '#shared/dunning/stripe-signature.ts';
import type { WebhookDeps } from '#shared/dunning/webhook.ts';
import { once, SECRET_HOLDER_MAX_AGE_MS } from './once.ts';
import { logger, powertoolsMetrics } from './powertools.ts';

export const webhookDeps = once(async (): Promise<WebhookDeps> => {
  const config = readConfig(WebhookConfigSchema);
  const signingSecret = await readSecretString(config.stripeWebhookSecret);
  const inbox = new SqsEventInbox(config.eventQueueUrl);
  return {
    log: logger,
    metrics: powertoolsMetrics,
    verify: (rawBody, signature) => verifyStripeSignature(rawBody, signature, signingSecret),
    inbox,
  };
}, { maxAgeMs: SECRET_HOLDER_MAX_AGE_MS });
