// The stack outputs the operator CLI reads (CloudFormation DescribeStacks), by their fixed names.
// infra/stacks/dunning-stack.ts writes them and cli/target.ts reads them: one list, so neither drifts.
import { createHash } from 'node:crypto';
import type { PolicySet } from './policy/segments.ts';

export const OPERATOR_OUTPUTS = {
  tableName: 'OperatorTableName',
  stateMachineArn: 'OperatorStateMachineArn',
  stripeApiKeySecretArn: 'OperatorStripeApiKeySecretArn',
  linkSigningKeySecretArn: 'OperatorLinkSigningKeySecretArn',
  linkBaseUrl: 'OperatorLinkBaseUrl',
  sender: 'OperatorSender',
  /** Comma-separated; absent when there is no Reply-To. */
  replyTo: 'OperatorReplyTo',
  configurationSet: 'OperatorConfigurationSet',
  /** The webhook's URL (absent when the Function URL is off): `dunning connect` points Stripe at it. */
  webhookUrl: 'OperatorWebhookUrl',
  /** The webhook signing secret: `dunning connect` stores the endpoint's secret there. */
  webhookSigningSecretArn: 'OperatorWebhookSigningSecretArn',
  /** The alarm topic the stack made (absent when you gave your own): `dunning doctor` checks its subscription. */
  alarmTopicArn: 'OperatorAlarmTopicArn',
  /** The deployed policy file's digest, so the CLI can refuse to act with a different policy file. */
  policySha256: 'OperatorPolicySha256',
} as const;

/** A digest of the validated policy file (not of its bytes, so formatting does not matter). */
export function policyDigest(policies: PolicySet): string {
  return createHash('sha256').update(JSON.stringify(policies)).digest('hex');
}
