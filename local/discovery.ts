// `GET /.well-known/dunning`: what the operator CLI needs to act on this local runtime as it would on
// a deployed stack: the same settings the stack's outputs give, plus the loopback endpoints the AWS
// SDK is pointed at. Loopback only, like everything the local runtime serves.
import type { PolicySet } from '#shared/policy/segments.ts';

export const DISCOVERY_PATH = '/.well-known/dunning';

export interface LocalDiscovery {
  product: 'stripe-dunning';
  region: string;
  tableName: string;
  stateMachineArn: string;
  /** AWS SDK endpoints, as AWS_ENDPOINT_URL_<SERVICE> takes them. */
  endpoints: { dynamodb: string; sesv2: string; sfn: string };
  stripe: {
    apiBase?: string;
    /** Only the sandbox's own key; with real Stripe test mode the CLI needs STRIPE_API_KEY itself. */
    apiKey?: string;
  };
  linkBaseUrl: string;
  /** The local runtime's dev-only link signing key (a generated secret in AWS). */
  linkSigningKey: string;
  sender: string;
  replyTo?: string;
  /** The policy file the runtime runs: every policy, the segments and alsoNotify. */
  policies: PolicySet;
  /** Where people read things: the SES inbox web page and the console. */
  sesInbox: string;
  console: string;
}
