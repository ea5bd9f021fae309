// The adapters the CLI acts through, built from the environment the target set, exactly as the
// functions build theirs (functions/_runtime/stage-deps.ts, ingest-deps.ts), but logging to stderr and
// publishing metrics with PutMetricData at the end (there is no Lambda log stream for EMF to ride on).
import type Stripe from 'stripe';
import { CloudWatchMetricsSink, createCloudWatchClient, type BufferedMetricsSink } from '#shared/adapters/cloudwatch-metrics.ts';
import { createDynamoDocumentClient, createSesClient, createSfnClient } from '#shared/adapters/aws-clients.ts';
import { DynamoCaseStore } from '#shared/adapters/dynamodb/case-store.ts';
import { resolveSecret } from '#shared/adapters/secrets.ts';
import { SesMailer } from '#shared/adapters/ses-mailer.ts';
import { StepFunctionsWorkflow } from '#shared/adapters/sfn-workflow.ts';
import { createStripeClient, StripeGateway } from '#shared/adapters/stripe-gateway.ts';
import { IngestConfigSchema, LinkConfigSchema, MailConfigSchema, readConfig } from '#shared/config.ts';
import { systemClock } from '#shared/domain/ports.ts';
import { noMetrics, silentLog, type IngestDeps, type Log } from '#shared/dunning/deps.ts';
import { createPaymentLinks } from '#shared/links/issuer.ts';
import { DEFAULT_POLICY_NAME } from '#shared/policy/segments.ts';
import type { Target } from './target.ts';

export interface OperatorDeps extends IngestDeps {
  /** The Stripe SDK itself, for what the gateway does not cover (events.retrieve). */
  stripeClient: Stripe;
  /** What the command counted; flushed to CloudWatch once it is done (see main). */
  metrics: BufferedMetricsSink;
  /** Locally, how long a policy day lasts (see Target); absent for a stack. */
  policyDayMs?: number;
}

const NO_METRICS: BufferedMetricsSink = { ...noMetrics, flush: async () => {} };

export async function operatorDeps(target: Target, log: Log = silentLog): Promise<OperatorDeps> {
  Object.assign(process.env, target.env);
  const config = readConfig(IngestConfigSchema);
  const mail = readConfig(MailConfigSchema);
  const link = readConfig(LinkConfigSchema);
  const apiKey = await resolveSecret(config.stripeApiKey);
  const stripeClient = createStripeClient({ apiKey, apiBase: config.stripeApiBase });
  return {
    policy: target.policies.policies[DEFAULT_POLICY_NAME]!,
    policies: target.policies,
    store: new DynamoCaseStore(createDynamoDocumentClient({}), config.tableName),
    stripe: new StripeGateway(stripeClient),
    stripeClient,
    mailer: new SesMailer(createSesClient({}), { sender: mail.sender, replyTo: mail.replyTo, configurationSet: mail.configurationSet }),
    links: createPaymentLinks({ baseUrl: link.linkBaseUrl, signingKey: () => resolveSecret(link.linkSigningKey), clock: systemClock }),
    workflow: new StepFunctionsWorkflow(createSfnClient(), config.stateMachineArn),
    livemode: /^(sk|rk)_live_/.test(apiKey),
    clock: systemClock,
    log,
    metrics: target.metrics === 'cloudwatch' ? new CloudWatchMetricsSink(createCloudWatchClient()) : NO_METRICS,
    ...(target.policyDayMs ? { policyDayMs: target.policyDayMs } : {}),
  };
}

/** Log lines on stderr as JSON (--verbose), so stdout stays the command's answer. */
export const stderrLog: Log = Object.fromEntries(
  (['debug', 'info', 'warn', 'error'] as const).map((level) => [
    level,
    (message: string, ...extra: object[]) => process.stderr.write(`${JSON.stringify({ level, message, ...Object.assign({}, ...extra) })}\n`),
  ]),
) as unknown as Log;
