// The embedded runtime's settings, from the environment, validated so a bad value names itself.
import { parseRateLimits, type RateLimitSetting } from '@stripe-dunning/stripe-sandbox';
import { z } from 'zod';
import { parseFlags, SettingsError } from '#shared/command-line.ts';

/** Fixed so `stripe listen` users and the sandbox agree without setup; printed at start. */
export const LOCAL_WEBHOOK_SECRET = 'whsec_local_dunning_sandbox_secret_0000000000';
export const LOCAL_STRIPE_KEY = 'sk_test_local_dunning_sandbox';
/** Signs the one-click links locally. In AWS the key is a generated secret in Secrets Manager. */
export const LOCAL_LINK_SIGNING_KEY = 'dev-only-link-signing-key-not-for-production-0000';
/**
 * What the site's backend sends as `Authorization: Bearer …` to the banner API locally, standing in
 * for the SigV4 (AWS_IAM) signature the Function URL requires in AWS. Printed at start.
 */
export const LOCAL_BANNER_TOKEN = 'dev-banner-token';
/**
 * Where `npm start` answers unless DUNNING_HOST or DUNNING_PORT move it. The bundled default policy
 * names it (its My Account page), and the runtime moves such URLs to where it really answers.
 */
export const DEFAULT_LOCAL_HOST = '127.0.0.1';
export const DEFAULT_LOCAL_PORT = 3000;
export const DEFAULT_LOCAL_ORIGIN = `http://${DEFAULT_LOCAL_HOST}:${DEFAULT_LOCAL_PORT}`;

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const LocalConfigSchema = z.object({
  host: z.string().default(DEFAULT_LOCAL_HOST),
  port: port(DEFAULT_LOCAL_PORT),
  dynamoDbPort: port(8000),
  sesPort: port(8005),
  /** The local SES's maximum send rate, emails per second (0: none), as an SES account has one. */
  sesMaxSendRate: z.coerce.number().min(0).max(10_000).default(14),
  stripePort: port(12111),
  /** Milliseconds one policy day lasts. */
  dayMs: z.coerce.number().int().min(50).max(86_400_000).default(2000),
  dataDir: z.string().min(1).optional(),
  webhookSecret: z.string().startsWith('whsec_').default(LOCAL_WEBHOOK_SECRET),
  /** A real `sk_test_…` key switches from the sandbox to Stripe test mode (with `stripe listen`). */
  stripeApiKey: z
    .string()
    .regex(/^(sk|rk)_test_/, 'must be a test-mode key (sk_test_… or rk_test_…); the local runtime never uses live keys')
    .optional(),
  policyFile: z.string().min(1).optional(),
  sender: z.string().default('billing@acme.test'),
  linkSigningKey: z.string().min(32, 'must be at least 32 characters').default(LOCAL_LINK_SIGNING_KEY),
  bannerToken: z.string().min(8, 'must be at least 8 characters').default(LOCAL_BANNER_TOKEN),
  /** Reply-To addresses, comma-separated, as in AWS. */
  replyTo: z.string().optional(),
  demo: z.boolean().default(true),
  /** POST each event the product publishes (its local EventBridge bus) as JSON to this URL. */
  eventsUrl: z
    .string()
    .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'must be an http(s) URL, e.g. http://127.0.0.1:4000/events')
    .optional(),
  tableName: z.string().default('dunning-local'),
  /** The product's own Stripe budget, "40/10" (checked as `cdk deploy` checks it): DUNNING_STRIPE_BUDGET. */
  stripeBudget: z.string().optional(),
  /** The product's own email budget, per second: DUNNING_EMAIL_BUDGET. */
  emailBudget: z.string().optional(),
  /**
   * The sandbox account's automatic retries (Stripe's retry schedule), as days after each failed
   * attempt, e.g. "1,3,5". Off by default, as `retries: "workflow"` asks; set it to try a policy with
   * `retries: "stripe"`.
   */
  stripeRetryDays: z
    .union([z.string(), z.array(z.number())])
    .default([])
    .transform((value, ctx) => {
      const days = typeof value === 'string' ? value.split(',').map((d) => d.trim()).filter(Boolean).map(Number) : value;
      if (days.some((d) => !Number.isFinite(d) || d <= 0 || d > 60)) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of days between 0 and 60, e.g. "1,3,5"' });
        return z.NEVER;
      }
      return days;
    }),
  /**
   * What the sandbox account does to a subscription when Stripe's retries are over ("Manage failed
   * payments" → Subscription status). `past_due` by default, as the README's deploy step 4 tells a
   * merchant to set it; `cancel` is Stripe's own default, `unpaid` the third choice.
   */
  stripeEndOfRetries: z.enum(['cancel', 'unpaid', 'past_due']).default('past_due'),
  /**
   * How the sandbox delivers webhooks: `stripe` (default) as Stripe does, in no guaranteed order,
   * some twice, a failed delivery retried hours later in policy time; `ordered` one at a time.
   */
  stripeDelivery: z.enum(['stripe', 'ordered']).default('stripe'),
  /**
   * Stripe's rate limits in the sandbox (docs.stripe.com/rate-limits): `test` (25 requests a second
   * for the account and per endpoint, as a Stripe sandbox; the default), `live` (100 and 25), `off`,
   * or `<global>/<perEndpoint>`.
   */
  stripeRateLimits: z
    .string()
    .default('test')
    .transform((value, ctx): RateLimitSetting => {
      try {
        return parseRateLimits(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** Seeds the sandbox's shuffled and duplicated delivery, so a run can be replayed; printed at start. */
  stripeDeliverySeed: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(() => Math.floor(Math.random() * 2 ** 32)),
});
export type LocalConfig = z.infer<typeof LocalConfigSchema>;

const VARS: Record<keyof LocalConfig, string> = {
  host: 'DUNNING_HOST',
  port: 'DUNNING_PORT',
  dynamoDbPort: 'DUNNING_DYNAMODB_PORT',
  sesPort: 'DUNNING_SES_PORT',
  sesMaxSendRate: 'DUNNING_SES_MAX_SEND_RATE',
  stripePort: 'DUNNING_STRIPE_PORT',
  dayMs: 'DUNNING_DAY_MS',
  dataDir: 'DUNNING_DATA_DIR',
  webhookSecret: 'STRIPE_WEBHOOK_SECRET',
  stripeApiKey: 'STRIPE_API_KEY',
  policyFile: 'DUNNING_POLICY_FILE',
  sender: 'DUNNING_SENDER',
  linkSigningKey: 'DUNNING_LINK_SIGNING_KEY',
  bannerToken: 'DUNNING_BANNER_TOKEN',
  replyTo: 'DUNNING_REPLY_TO',
  demo: 'DUNNING_DEMO',
  eventsUrl: 'DUNNING_EVENTS_URL',
  tableName: 'DUNNING_TABLE_NAME',
  stripeRetryDays: 'STRIPE_SANDBOX_RETRY_DAYS',
  stripeEndOfRetries: 'STRIPE_SANDBOX_END_OF_RETRIES',
  stripeDelivery: 'STRIPE_SANDBOX_DELIVERY',
  stripeRateLimits: 'STRIPE_SANDBOX_RATE_LIMITS',
  stripeDeliverySeed: 'STRIPE_SANDBOX_DELIVERY_SEED',
  stripeBudget: 'DUNNING_STRIPE_BUDGET',
  emailBudget: 'DUNNING_EMAIL_BUDGET',
};

/** `npm start -- <flags>`: everything else is a variable, so these are all there is. */
export const LOCAL_FLAGS = {
  'no-demo': { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const;

export function readLocalConfig(env: NodeJS.ProcessEnv, argv: readonly string[] = []): LocalConfig {
  const raw: Record<string, unknown> = {};
  for (const [field, name] of Object.entries(VARS)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[field] = value;
  }
  if (raw.demo !== undefined) raw.demo = !['0', 'false', 'no', 'off'].includes(String(raw.demo).toLowerCase());
  if (parseFlags(argv, LOCAL_FLAGS)['no-demo']) raw.demo = false;
  const result = LocalConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = String(issue.path[0]) as keyof LocalConfig;
    return `${VARS[field] ?? field}=${JSON.stringify(raw[field])}: ${issue.message}`;
  });
  throw new SettingsError(problems.map((problem) => `Invalid local configuration: ${problem}`).join('\n'));
}
