// Builds the adapters from the Lambda environment once per container. Secrets are fetched from
// Secrets Manager on first use and cached by Powertools Parameters.
import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import { createDynamoDocumentClient, createSesClient, createSfnClient } from '../adapters/aws-clients.ts';
import { DynamoCaseStore } from '../adapters/dynamodb-case-store.ts';
import { createEventDedupe } from '../adapters/processed-events.ts';
import { resolveSecret } from '../adapters/secrets.ts';
import { SesMailer } from '../adapters/ses-mailer.ts';
import { StepFunctionsWorkflow } from '../adapters/sfn-workflow.ts';
import { createStripeClient, StripeGateway } from '../adapters/stripe-gateway.ts';
import { DynamoRateLimiter } from '../adapters/dynamodb-rate-limiter.ts';
import {
  LinkConfigSchema,
  MailConfigSchema,
  PaymentLinkConfigSchema,
  readConfig,
  StageConfigSchema,
  WebhookConfigSchema,
  ENV,
} from '../config.ts';
import { systemClock } from '../domain/ports.ts';
import { policyOf, type DunningDeps } from '../dunning/deps.ts';
import type { PaymentLinkDeps } from '../dunning/payment-link.ts';
import { createPaymentLinks, noPaymentLinks } from '../links/issuer.ts';
import type { EmailEventDeps } from '../dunning/email-events.ts';
import type { OpenCasesGaugeDeps } from '../dunning/open-cases.ts';
import { ingestStripeEvent } from '../dunning/ingest.ts';
import type { WebhookDeps } from '../dunning/webhook.ts';
import { parsePolicySet } from '../policy/load.ts';
import { DEFAULT_POLICY_NAME, type PolicySet } from '../policy/segments.ts';
import type { Policy } from '../policy/schema.ts';
import { logger, powertoolsMetrics, tracer } from './powertools.ts';

/**
 * The policy file CDK bundled into the code (esbuild define), or the one the environment provides:
 * every policy, the segments and alsoNotify (a single policy is the set's `default`).
 */
export function policiesFromEnvironment(): PolicySet {
  // Spelled out in full: esbuild's define replaces only this literal expression when CDK bundles.
  const json = process.env.DUNNING_POLICY_JSON;
  if (!json) throw new Error(`${ENV.policyJson} is not set: the policy must be bundled or provided`);
  return parsePolicySet(JSON.parse(json), ENV.policyJson);
}

/** The `default` policy of the bundled file. */
export function policyFromEnvironment(): Policy {
  return policiesFromEnvironment().policies[DEFAULT_POLICY_NAME]!;
}

function once<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined; // a failed cold start (e.g. Secrets Manager hiccup) is retried next time
      throw error;
    });
    return pending;
  };
}

export const stageDeps = once(async (): Promise<DunningDeps> => {
  const config = readConfig(StageConfigSchema);
  const mail = readConfig(MailConfigSchema.partial());
  const documentClient = createDynamoDocumentClient({});
  tracer.captureAWSv3Client(documentClient);
  const stripe = createStripeClient({ apiKey: await resolveSecret(config.stripeApiKey), apiBase: config.stripeApiBase });
  const ses = createSesClient({});
  tracer.captureAWSv3Client(ses);
  const link = readConfig(LinkConfigSchema.partial());
  const policies = policiesFromEnvironment();
  return {
    policy: policies.policies[DEFAULT_POLICY_NAME]!,
    policies,
    store: new DynamoCaseStore(documentClient, config.tableName),
    stripe: new StripeGateway(stripe),
    // Functions without a sender never send; a send from one is a wiring bug and fails loudly.
    mailer: mail.sender
      ? new SesMailer(ses, { sender: mail.sender, replyTo: mail.replyTo, configurationSet: mail.configurationSet })
      : { send: () => Promise.reject(new Error(`${ENV.sender} is not set for this function`)) },
    // Only send-notice makes links; the key is fetched on its first link, not at every cold start.
    links:
      link.linkBaseUrl && link.linkSigningKey
        ? createPaymentLinks({ baseUrl: link.linkBaseUrl, signingKey: () => resolveSecret(link.linkSigningKey!), clock: systemClock })
        : noPaymentLinks(`${ENV.linkBaseUrl} or the link signing key is not set for this function`),
    clock: systemClock,
    log: logger,
    metrics: powertoolsMetrics,
  };
});

/**
 * What both ingest paths share: the router, and one dedupe over the same records, so an event that
 * arrives by the webhook and by EventBridge is processed once.
 */
const ingestDeps = once(async (): Promise<Omit<WebhookDeps, 'verify'> & { apiKey: string; apiBase?: string }> => {
  const config = readConfig(WebhookConfigSchema.omit({ stripeWebhookSecret: true }));
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
});

export const webhookDeps = once(async (): Promise<WebhookDeps> => {
  const config = readConfig(WebhookConfigSchema);
  const { apiKey, apiBase, ...shared } = await ingestDeps();
  const signingSecret = await resolveSecret(config.stripeWebhookSecret);
  const stripe = createStripeClient({ apiKey, apiBase });
  return { ...shared, verify: (rawBody, signature) => stripe.webhooks.constructEvent(rawBody, signature, signingSecret) };
});

/** The banner API only reads the table, so it needs neither Stripe nor SES. */
export const noticeStore = once(async () => {
  const config = readConfig(StageConfigSchema.pick({ tableName: true }));
  const documentClient = createDynamoDocumentClient({});
  tracer.captureAWSv3Client(documentClient);
  return new DynamoCaseStore(documentClient, config.tableName);
});

/** The one-click link endpoint: the table (case and rate limit), Stripe, and the link signing key. */
export const paymentLinkDeps = once(async (): Promise<PaymentLinkDeps & { brandName: string }> => {
  const config = readConfig(PaymentLinkConfigSchema);
  const policies = policiesFromEnvironment();
  const policy = policies.policies[DEFAULT_POLICY_NAME]!;
  const documentClient = createDynamoDocumentClient({});
  tracer.captureAWSv3Client(documentClient);
  const stripe = createStripeClient({ apiKey: await resolveSecret(config.stripeApiKey), apiBase: config.stripeApiBase });
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
});
/** The SES event recorder only reads and writes the table: no Stripe, no SES. */
export const emailEventDeps = once(async (): Promise<EmailEventDeps> => ({
  store: await noticeStore(),
  clock: systemClock,
  log: logger,
  metrics: powertoolsMetrics,
}));

/** The open-cases gauge reads the open-cases index and emits one metric per stage. */
export const openCasesGaugeDeps = once(async (): Promise<OpenCasesGaugeDeps> => ({
  store: await noticeStore(),
  policies: policiesFromEnvironment(),
  clock: systemClock,
  metrics: powertoolsMetrics,
}));

/** The EventBridge ingest: the webhook's router and dedupe, but no signing secret, since nothing is signed. */
export const eventBridgeDeps = once(async (): Promise<Omit<WebhookDeps, 'verify'>> => {
  const { apiKey: _apiKey, apiBase: _apiBase, ...shared } = await ingestDeps();
  return shared;
});
