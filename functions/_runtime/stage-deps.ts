// The stage functions' dependencies (send-notice, retry-payment, close-case), which the ingest
// functions build on: the table, Stripe, SES when the function has a sender, links when it makes them.
import { createSesClient } from '#shared/adapters/aws-clients.ts';
import { DynamoCaseStore } from '#shared/adapters/dynamodb/case-store.ts';
import { resolveSecret } from '#shared/adapters/secrets.ts';
import { pacedMailer, SesMailer } from '#shared/adapters/ses-mailer.ts';
import { createStripeClient, StripeGateway } from '#shared/adapters/stripe-gateway.ts';
import { ENV, OptionalLinkConfigSchema, OptionalMailConfigSchema, readConfig, StageConfigSchema } from '#shared/config.ts';
import { systemClock } from '#shared/domain/ports.ts';
import { compressedCaseClock } from '#shared/domain/case-clock.ts';
import type { DunningDeps } from '#shared/dunning/deps.ts';
import { createPaymentLinks, noPaymentLinks } from '#shared/links/issuer.ts';
import { DEFAULT_POLICY_NAME } from '#shared/policy/segments.ts';
import { once, SECRET_HOLDER_MAX_AGE_MS, tracedDocumentClient } from './lambda-deps.ts';
import { emailPacer, PACING_WAIT_MS, stripePacer } from './pacing.ts';
import { policiesFromEnvironment } from './policy-env.ts';
import { logger, powertoolsMetrics } from './powertools.ts';
import { tracer } from './tracer.ts';

export const stageDeps = once(async (): Promise<DunningDeps> => {
  const config = readConfig(StageConfigSchema);
  const mail = readConfig(OptionalMailConfigSchema);
  const apiKey = await resolveSecret(config.stripeApiKey);
  const documentClient = tracedDocumentClient();
  const stripe = createStripeClient({ apiKey, apiBase: config.stripeApiBase, pacer: stripePacer(documentClient, config.tableName, apiKey, PACING_WAIT_MS.stage) });
  const link = readConfig(OptionalLinkConfigSchema);
  const policies = policiesFromEnvironment();
  // Locally a policy day is DUNNING_LOCAL_DAY_MS: the case's business clock runs that fast. In AWS, unset: the wall clock.
  const localDayMs = Number(process.env[ENV.localDayMs]);
  return {
    policy: policies.policies[DEFAULT_POLICY_NAME]!,
    policies,
    store: new DynamoCaseStore(documentClient, config.tableName),
    stripe: new StripeGateway(stripe),
    // Functions without a sender never send; a send from one is a wiring bug and fails loudly.
    mailer: mail.sender
      ? pacedMailer(
          new SesMailer(tracer.captureAWSv3Client(createSesClient({})), { sender: mail.sender, replyTo: mail.replyTo, configurationSet: mail.configurationSet }),
          emailPacer(documentClient, config.tableName, PACING_WAIT_MS.stage),
        )
      : { send: () => Promise.reject(new Error(`${ENV.sender} is not set for this function`)) },
    // Only send-notice makes links; the key is fetched on its first link, not at every cold start.
    links:
      link.linkBaseUrl && link.linkSigningKey
        ? createPaymentLinks({ baseUrl: link.linkBaseUrl, signingKey: () => resolveSecret(link.linkSigningKey!), clock: systemClock })
        : noPaymentLinks(`${ENV.linkBaseUrl} or the link signing key is not set for this function`),
    clock: systemClock,
    ...(localDayMs > 0 ? { caseClock: (c) => compressedCaseClock(c, localDayMs) } : {}),
    log: logger,
    metrics: powertoolsMetrics,
  };
}, { maxAgeMs: SECRET_HOLDER_MAX_AGE_MS });
