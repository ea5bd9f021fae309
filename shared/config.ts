// Runtime configuration of the functions, read from the environment once and validated with zod
// (zod/mini, as everything a Lambda bundle reaches: see shared/zod.ts).
// In AWS the Stripe secrets come from Secrets Manager by ARN; locally they may be given directly.
import * as z from './zod.ts';
import { InvalidInputError } from './domain/errors.ts';

/** Every environment variable the functions read. CDK sets these; the local runtime sets the same. */
export const ENV = {
  tableName: 'DUNNING_TABLE_NAME',
  stateMachineArn: 'DUNNING_STATE_MACHINE_ARN',
  sender: 'DUNNING_SENDER',
  replyTo: 'DUNNING_REPLY_TO',
  configurationSet: 'DUNNING_SES_CONFIGURATION_SET',
  stripeApiKeySecretArn: 'STRIPE_API_KEY_SECRET_ARN',
  stripeWebhookSecretArn: 'STRIPE_WEBHOOK_SECRET_ARN',
  /** Local only: the key itself. Never set in AWS, where the secret ARN is used. */
  stripeApiKey: 'STRIPE_API_KEY',
  /** Local only: the webhook signing secret itself. */
  stripeWebhookSecret: 'STRIPE_WEBHOOK_SECRET',
  /** Local only: e.g. http://127.0.0.1:12111 for the Stripe sandbox. */
  stripeApiBase: 'STRIPE_API_BASE',
  /** The validated policy as JSON; CDK bundles it into the code, the local runtime passes it in. */
  policyJson: 'DUNNING_POLICY_JSON',
  /** How long processed Stripe event ids are remembered (Stripe retries for up to 3 days). */
  eventTtlDays: 'DUNNING_EVENT_TTL_DAYS',
  /** Where GET /u/{token} is served: the update-payment-link Function URL, or the local runtime. */
  linkBaseUrl: 'DUNNING_LINK_BASE_URL',
  /** The secret that signs the one-click links (HMAC-SHA256). */
  linkSigningKeySecretArn: 'DUNNING_LINK_SIGNING_KEY_SECRET_ARN',
  /** Local only: the link signing key itself. */
  linkSigningKey: 'DUNNING_LINK_SIGNING_KEY',
  /**
   * Local only: how many milliseconds a policy day lasts. The stages plan retries and set Waits on a
   * case clock compressed to it. Never set in AWS, where a day is a day.
   */
  localDayMs: 'DUNNING_LOCAL_DAY_MS',
  /** The event bus the merchant's events go to (its name or ARN): the publisher's only. */
  eventBusName: 'DUNNING_EVENT_BUS_NAME',
  /**
   * The Stripe requests per second the product allows itself, for the account and per endpoint:
   * `40/10`, or `40` for the account alone. Unset: half of Stripe's limits or less, by the key's mode
   * (STRIPE_BUDGET_DEFAULTS).
   */
  stripeBudget: 'DUNNING_STRIPE_BUDGET',
  /** The emails per second the product allows itself through SES (EMAIL_BUDGET_DEFAULT when unset). */
  emailBudget: 'DUNNING_EMAIL_BUDGET',
  /** The SQS FIFO queue the webhook stores verified events in, for route-events: the webhook's only. */
  eventQueueUrl: 'DUNNING_EVENT_QUEUE_URL',
} as const;

/**
 * How long a secret read from Secrets Manager is trusted: the secret cache's age, and the age at
 * which the dependencies built with it are built again. A rotation reaches a warm container within it.
 */
export const SECRET_MAX_AGE_SECONDS = 300;

const nonEmpty = z.string().check(z.trim(), z.minLength(1));

const SecretRef = z.union([
  z.pipe(z.object({ arn: nonEmpty }), z.transform((v) => ({ kind: 'secretsManager' as const, arn: v.arn }))),
  z.pipe(z.object({ value: nonEmpty }), z.transform((v) => ({ kind: 'plain' as const, value: v.value }))),
]);
export type SecretRef = z.infer<typeof SecretRef>;

function secretFrom(env: NodeJS.ProcessEnv, arnVar: string, valueVar: string): unknown {
  const arn = env[arnVar];
  if (arn) return { arn };
  const value = env[valueVar];
  if (value) return { value };
  return undefined;
}

/**
 * Stripe's limits (docs.stripe.com/rate-limits): 100 requests a second per account in live mode, 25
 * in a sandbox (test mode), and 25 a second on each endpoint. The defaults keep at most half of
 * each for us, counting the edge of a window and the time a request takes to arrive: RequestPacer
 * takes at most 1.2 times its budget in any one second, and requests taken earlier may still arrive
 * together after a stall (test/adapters/request-budget-sandbox.test.ts). So live 35 (42 at most
 * taken of 100) and 8 per endpoint (about 10 of 25); test 8 and 8 (about 10 of 25).
 */
export const STRIPE_BUDGET_DEFAULTS = {
  live: { perSecond: 35, perEndpointPerSecond: 8 },
  test: { perSecond: 8, perEndpointPerSecond: 8 },
} as const;

/**
 * How long a call waits for room in the budget before it gives up (OverBudgetError): a stage (or the
 * router), then retried by the state machine's patient retrier (or the queue); a request someone is
 * waiting on (the access API, a link click) answers sooner.
 */
export const PACING_WAIT_MS = { stage: 8_000, interactive: 1_500 } as const;

/**
 * Emails a second: under the 14 a new production SES account starts with (docs.aws.amazon.com/ses/
 * latest/dg/manage-sending-quotas.html), with room for the merchant's own mail. Set it to your
 * account's maximum send rate less what else sends from it.
 */
export const EMAIL_BUDGET_DEFAULT = 10;

const rate = z.pipe(z.coerce.number(), z.number().check(z.positive(), z.maximum(10_000)));
const StripeBudget = z.pipe(
  z.string().check(z.regex(/^\s*\d+(\.\d+)?\s*(\/\s*\d+(\.\d+)?\s*)?$/, 'write requests per second as "40/10" (the account / each endpoint) or "40"')),
  z.transform((value, ctx) => {
    const [perSecond, perEndpoint] = value.split('/').map((part) => Number(part.trim()));
    if (!(perSecond! > 0) || (perEndpoint !== undefined && !(perEndpoint > 0))) {
      ctx.issues.push({ code: 'custom', message: 'each rate must be above 0', input: value });
      return z.NEVER;
    }
    if (perEndpoint !== undefined && perEndpoint > perSecond!) {
      ctx.issues.push({ code: 'custom', message: `the budget per endpoint (${perEndpoint}) cannot be above the account's (${perSecond})`, input: value });
      return z.NEVER;
    }
    return { perSecond: perSecond!, ...(perEndpoint !== undefined ? { perEndpointPerSecond: perEndpoint } : {}) };
  }),
);

/** What paces a function's Stripe requests and emails (RequestPacer). */
export const BudgetConfigSchema = z.object({
  stripeBudget: z.optional(StripeBudget),
  emailBudget: z.optional(rate),
});
export type BudgetConfig = z.infer<typeof BudgetConfigSchema>;

const BaseConfig = z.object({
  tableName: nonEmpty,
  stripeApiBase: z.optional(z.url()),
  eventTtlDays: z._default(z.pipe(z.coerce.number(), z.int().check(z.minimum(1), z.maximum(90))), 7),
});

/** Only the table: the banner API and the SES event recorder. */
export const TableConfigSchema = z.pick(BaseConfig, { tableName: true });

export const StageConfigSchema = z.extend(BaseConfig, {
  stripeApiKey: SecretRef,
});

export const MailConfigSchema = z.object({
  sender: nonEmpty,
  /** CDK joins the Reply-To addresses with commas; SES takes a list. */
  replyTo: z.pipe(
    z.optional(z.string()),
    z.transform((value) => value?.split(',').map((a) => a.trim()).filter(Boolean)),
  ),
  configurationSet: z.optional(z.string()),
});
/** A function without a sender never sends (see stageDeps). */
export const OptionalMailConfigSchema = z.partial(MailConfigSchema);

/** Both ingest paths (webhook and EventBridge): a stage's config and the state machine to start. */
export const IngestConfigSchema = z.extend(StageConfigSchema, {
  stateMachineArn: nonEmpty,
});

/** The webhook verifies and stores; it reads no table, Stripe or state machine. */
export const WebhookConfigSchema = z.object({
  stripeWebhookSecret: SecretRef,
  eventQueueUrl: nonEmpty,
});

/** What makes (send-notice) or checks (the link endpoint) a one-click update link. */
export const LinkConfigSchema = z.object({
  linkBaseUrl: z.url(),
  linkSigningKey: SecretRef,
});
/** Only send-notice makes links: elsewhere both are absent. */
export const OptionalLinkConfigSchema = z.partial(LinkConfigSchema);

export const PaymentLinkConfigSchema = z.extend(StageConfigSchema, {
  linkSigningKey: SecretRef,
});

/** The flagger of failed executions reads the table and asks Step Functions; nothing else. */
export const FlagCaseConfigSchema = z.object({
  tableName: nonEmpty,
  stateMachineArn: nonEmpty,
});

/** The events publisher reads the table's outbox and writes to the event bus. */
export const PublisherConfigSchema = z.object({
  tableName: nonEmpty,
  eventBusName: nonEmpty,
});

export type StageConfig = z.infer<typeof StageConfigSchema>;
export type MailConfig = z.infer<typeof MailConfigSchema>;
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

/** Collects the raw values under schema field names so zod errors name the env variable. */
function raw(env: NodeJS.ProcessEnv): Record<string, unknown> {
  return {
    tableName: env[ENV.tableName],
    stateMachineArn: env[ENV.stateMachineArn],
    sender: env[ENV.sender],
    replyTo: env[ENV.replyTo] || undefined,
    configurationSet: env[ENV.configurationSet] || undefined,
    stripeApiBase: env[ENV.stripeApiBase] || undefined,
    eventTtlDays: env[ENV.eventTtlDays] || undefined,
    stripeApiKey: secretFrom(env, ENV.stripeApiKeySecretArn, ENV.stripeApiKey),
    stripeWebhookSecret: secretFrom(env, ENV.stripeWebhookSecretArn, ENV.stripeWebhookSecret),
    linkBaseUrl: env[ENV.linkBaseUrl] || undefined,
    linkSigningKey: secretFrom(env, ENV.linkSigningKeySecretArn, ENV.linkSigningKey),
    eventBusName: env[ENV.eventBusName] || undefined,
    stripeBudget: env[ENV.stripeBudget] || undefined,
    emailBudget: env[ENV.emailBudget] || undefined,
    eventQueueUrl: env[ENV.eventQueueUrl] || undefined,
  };
}

const FIELD_TO_ENV: Record<string, string> = {
  tableName: ENV.tableName,
  stateMachineArn: ENV.stateMachineArn,
  sender: ENV.sender,
  replyTo: ENV.replyTo,
  configurationSet: ENV.configurationSet,
  stripeApiBase: ENV.stripeApiBase,
  eventTtlDays: ENV.eventTtlDays,
  stripeApiKey: `${ENV.stripeApiKeySecretArn} (or ${ENV.stripeApiKey} locally)`,
  stripeWebhookSecret: `${ENV.stripeWebhookSecretArn} (or ${ENV.stripeWebhookSecret} locally)`,
  linkBaseUrl: ENV.linkBaseUrl,
  linkSigningKey: `${ENV.linkSigningKeySecretArn} (or ${ENV.linkSigningKey} locally)`,
  eventBusName: ENV.eventBusName,
  stripeBudget: ENV.stripeBudget,
  emailBudget: ENV.emailBudget,
  eventQueueUrl: ENV.eventQueueUrl,
};

/** Parses the environment with `schema`; a bad or missing value throws naming the variable. */
export function readConfig<S extends z.ZodMiniType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(raw(env));
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '');
    const name = FIELD_TO_ENV[field] ?? field;
    const missing = issue.code === 'invalid_type' || issue.code === 'invalid_union';
    return missing ? `${name} is missing or empty` : `${name}: ${issue.message}`;
  });
  throw new InvalidInputError(`Invalid configuration: ${problems.join('; ')}`);
}
