// Finds what the CLI acts on: a deployed stack (its outputs, through CloudFormation) or the local
// runtime (`--local`, its discovery document). Either way the result is the environment the
// functions run with (ENV names, AWS_ENDPOINT_URL_* for the SDK), so everything after this is the
// same code against AWS and against loopback.
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ENV } from '#shared/config.ts';
import { OPERATOR_OUTPUTS, policyDigest } from '#shared/operator-outputs.ts';
import { DEFAULT_POLICY_FILE, loadPolicySetFile, parsePolicySet } from '#shared/policy/load.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import type { LocalDiscovery } from '#local/discovery.ts';
import { CliError } from './errors.ts';

export const DEFAULT_STACK = 'Dunning';
export const DEFAULT_LOCAL_URL = 'http://127.0.0.1:3000';

export interface Target {
  /** Said in errors and headers: "local http://…" or "stack Dunning (eu-west-1)". */
  label: string;
  /** The policy file the target runs: every policy, the segments and alsoNotify. */
  policies: PolicySet;
  /** Variables to set before the adapters are built: the functions' own, plus SDK endpoints. */
  env: Record<string, string>;
  /** The local SES inbox web page, when there is one. */
  sesInbox?: string;
  /** The stack's own alarm topic, for `doctor` (absent locally, or when the stack was given a topic). */
  alarmTopicArn?: string;
  /** The webhook Stripe posts to and the secret its signatures are checked with; absent when the target has no webhook. */
  webhook?: { url: string; signingSecretArn: string };
  /**
   * Locally, how long a policy day lasts: a case's times are then shown and taken in its own clock
   * (shared/domain/case-clock.ts). Absent for a stack, which runs on the wall clock.
   */
  policyDayMs?: number;
  /**
   * Where the business metrics of an action go (a retry-now that recovers a case counts in the
   * dashboard like any other recovery): CloudWatch for a stack; nowhere locally, where the
   * functions emit none either.
   */
  metrics: 'cloudwatch' | 'none';
}

export async function localTarget(baseUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const url = new URL('/.well-known/dunning', baseUrl);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    throw new CliError(`no local runtime answers at ${baseUrl} (${(error as Error).message}): start it with \`npm start\`, or pass its URL: --local http://127.0.0.1:<DUNNING_PORT>`, 3);
  }
  if (!res.ok) throw new CliError(`${url} answered ${res.status}: is ${baseUrl} the dunning local runtime (npm start)?`, 3);
  const discovery = (await res.json()) as LocalDiscovery;
  if (discovery.product !== 'stripe-dunning') throw new CliError(`${baseUrl} is not the dunning local runtime`, 3);
  const apiKey = discovery.stripe.apiKey ?? env.STRIPE_API_KEY;
  if (!apiKey) {
    throw new CliError('the local runtime uses real Stripe test mode: set STRIPE_API_KEY=sk_test_… for the CLI too', 3);
  }
  return {
    label: `local ${baseUrl}`,
    metrics: 'none',
    policies: parsePolicySet(discovery.policies, `${url}`),
    sesInbox: discovery.sesInbox,
    ...(discovery.webhook ? { webhook: discovery.webhook } : {}),
    ...(discovery.dayMs ? { policyDayMs: discovery.dayMs } : {}),
    env: {
      AWS_REGION: discovery.region,
      // The loopback services check no credentials; these stand in for the real ones.
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: discovery.endpoints.dynamodb,
      AWS_ENDPOINT_URL_SESV2: discovery.endpoints.sesv2,
      AWS_ENDPOINT_URL_SFN: discovery.endpoints.sfn,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: discovery.endpoints.secretsManager,
      [ENV.tableName]: discovery.tableName,
      [ENV.stateMachineArn]: discovery.stateMachineArn,
      [ENV.stripeApiKey]: apiKey,
      ...(discovery.stripe.apiBase ? { [ENV.stripeApiBase]: discovery.stripe.apiBase } : {}),
      [ENV.sender]: discovery.sender,
      ...(discovery.replyTo ? { [ENV.replyTo]: discovery.replyTo } : {}),
      [ENV.linkBaseUrl]: discovery.linkBaseUrl,
      [ENV.linkSigningKeySecretArn]: discovery.linkSigningKeySecretArn,
    },
  };
}

/** The policy file the operator names (DUNNING_POLICY_FILE), else the bundled default. */
export function policyFileOf(env: NodeJS.ProcessEnv = process.env): string {
  return env.DUNNING_POLICY_FILE ?? DEFAULT_POLICY_FILE;
}

/**
 * A deployed stack, found by name in the region the standard AWS configuration gives (AWS_REGION,
 * AWS_PROFILE, ~/.aws/config); the credentials come from the same chain.
 */
export async function stackTarget(stackName: string, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const client = new CloudFormationClient({ maxAttempts: 3 });
  let region: string;
  try {
    region = await client.config.region();
  } catch {
    throw new CliError('no AWS region: set AWS_REGION (or AWS_PROFILE with a region), or use --local for the local runtime', 3);
  }
  let outputs: Map<string, string>;
  try {
    const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = new Map((out.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch (error) {
    throw describeAwsError(error, stackName, region);
  } finally {
    client.destroy();
  }
  const need = (key: keyof typeof OPERATOR_OUTPUTS): string => {
    const value = outputs.get(OPERATOR_OUTPUTS[key]);
    if (!value) {
      throw new CliError(`stack ${stackName} (${region}) has no output ${OPERATOR_OUTPUTS[key]}: deploy this version of the stack (npx cdk deploy), or pass --stack NAME`, 3);
    }
    return value;
  };
  const policyFile = policyFileOf(env);
  const policies = loadPolicySetFile(policyFile);
  if (policyDigest(policies) !== need('policySha256')) {
    throw new CliError(
      `the policy in ${policyFile} is not the one stack ${stackName} runs: set DUNNING_POLICY_FILE to the policy file you deployed with`,
      3,
    );
  }
  const replyTo = outputs.get(OPERATOR_OUTPUTS.replyTo);
  const webhookUrl = outputs.get(OPERATOR_OUTPUTS.webhookUrl);
  const webhookSecretArn = outputs.get(OPERATOR_OUTPUTS.webhookSigningSecretArn);
  return {
    label: `stack ${stackName} (${region})`,
    metrics: 'cloudwatch',
    policies,
    ...(webhookUrl && webhookSecretArn ? { webhook: { url: webhookUrl, signingSecretArn: webhookSecretArn } } : {}),
    ...(outputs.get(OPERATOR_OUTPUTS.alarmTopicArn) ? { alarmTopicArn: outputs.get(OPERATOR_OUTPUTS.alarmTopicArn) } : {}),
    env: {
      AWS_REGION: region,
      [ENV.tableName]: need('tableName'),
      [ENV.stateMachineArn]: need('stateMachineArn'),
      [ENV.stripeApiKeySecretArn]: need('stripeApiKeySecretArn'),
      [ENV.sender]: need('sender'),
      ...(replyTo ? { [ENV.replyTo]: replyTo } : {}),
      [ENV.configurationSet]: need('configurationSet'),
      [ENV.linkBaseUrl]: need('linkBaseUrl'),
      [ENV.linkSigningKeySecretArn]: need('linkSigningKeySecretArn'),
    },
  };
}

/** One line an operator can act on, naming what to set. */
export function describeAwsError(error: unknown, stackName: string, region: string): CliError {
  const name = (error as { name?: string }).name ?? '';
  const message = (error as Error).message ?? String(error);
  if (name === 'CredentialsProviderError' || /credential/i.test(message) && !/security token/i.test(message)) {
    return new CliError(`no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or use --local for the local runtime`, 3);
  }
  if (name === 'ValidationError' && /does not exist/.test(message)) {
    return new CliError(`stack ${stackName} does not exist in ${region}: pass --stack NAME or set AWS_REGION to the stack's region (or deploy it: npx cdk deploy)`, 3);
  }
  if (['ExpiredToken', 'ExpiredTokenException', 'InvalidClientTokenId', 'UnrecognizedClientException', 'SignatureDoesNotMatch'].includes(name)) {
    return new CliError(`AWS refused the credentials (${name}): refresh them (aws sso login, or new keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`, 3);
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    return new CliError(`AWS denied ${message.split('\n')[0]}: the operator needs cloudformation:DescribeStacks on ${stackName}`, 3);
  }
  return new CliError(`could not read stack ${stackName} in ${region}: ${name ? `${name}: ` : ''}${message}`, 3);
}
