// `GET /.well-known/dunning`: what the operator CLI needs to act on this local runtime as it would on
// a deployed stack: the same settings the stack's outputs give, plus the loopback endpoints the AWS
// SDK is pointed at. Loopback only, like everything the local runtime serves, and only to requests
// addressed to the runtime itself (a web page that rebinds its DNS name to 127.0.0.1 gets nothing).
// No secret is in it: the CLI reads the link signing key from the local Secrets Manager by ARN, as
// it reads it from AWS.
import type { PolicySet } from '#shared/policy/segments.ts';

export const DISCOVERY_PATH = '/.well-known/dunning';

export interface LocalDiscovery {
  product: 'stripe-dunning';
  region: string;
  tableName: string;
  stateMachineArn: string;
  /** AWS SDK endpoints, as AWS_ENDPOINT_URL_<SERVICE> takes them. */
  endpoints: { dynamodb: string; sesv2: string; sfn: string; secretsManager: string };
  stripe: {
    apiBase?: string;
    /** Only the sandbox's own key; with real Stripe test mode the CLI needs STRIPE_API_KEY itself. */
    apiKey?: string;
  };
  linkBaseUrl: string;
  /** The link signing key's secret in the local Secrets Manager (its value is never served here). */
  linkSigningKeySecretArn: string;
  /** The webhook Stripe posts to, and its signing secret in the local Secrets Manager (by ARN): `dunning connect --local`. */
  webhook?: { url: string; signingSecretArn: string };
  sender: string;
  replyTo?: string;
  /** The policy file the runtime runs: every policy, the segments and alsoNotify. */
  policies: PolicySet;
  /**
   * How long one policy day lasts here (DUNNING_DAY_MS): the CLI shows and takes a case's times in
   * the case's own clock with it. Absent from runtimes older than it.
   */
  dayMs?: number;
  /** Where people read things: the SES inbox web page and the console. */
  sesInbox: string;
  console: string;
}
