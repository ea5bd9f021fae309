// `dunning doctor` against a target: the ports of cli/doctor.ts on the AWS SDK (Secrets Manager,
// SES v2, SNS) and the Stripe SDK, pointed where the target says (the local stand-ins with --local).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetAccountCommand, GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { createStripeClient } from '#shared/adapters/stripe-gateway.ts';
import { ENV } from '#shared/config.ts';
import type { Print } from './commands.ts';
import { formatDoctor, runDoctor, type StripeMode } from './doctor.ts';
import { CliError } from './errors.ts';
import type { Target } from './target.ts';

export const STRIPE_MODES: readonly StripeMode[] = ['live', 'test'];

export async function doctorTarget(target: Target, print: Print, mode?: StripeMode): Promise<void> {
  Object.assign(process.env, target.env);
  const env = target.env;
  const secrets = new SecretsManagerClient({ maxAttempts: 3 });
  const ses = new SESv2Client({ maxAttempts: 3 });
  const sns = target.alarmTopicArn ? new SNSClient({ maxAttempts: 3 }) : undefined;
  try {
    const results = await runDoctor({
      stripeKey: env[ENV.stripeApiKeySecretArn] ? { secretArn: env[ENV.stripeApiKeySecretArn]! } : { value: env[ENV.stripeApiKey] ?? '' },
      ...(target.webhook ? { webhook: target.webhook } : {}),
      readSecret: async (arn) => (await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString?.trim(),
      stripeFor: (apiKey) => createStripeClient({ apiKey, apiBase: env[ENV.stripeApiBase] }),
      // A stack is checked for going live unless told otherwise; the local runtime runs test mode.
      expectedMode: mode ?? (target.metrics === 'none' ? 'test' : 'live'),
      sender: env[ENV.sender] ?? '',
      ses: {
        identityVerified: async (identity) => {
          try {
            return (await ses.send(new GetEmailIdentityCommand({ EmailIdentity: identity }))).VerifiedForSendingStatus === true;
          } catch (error) {
            if ((error as { name?: string }).name === 'NotFoundException') return undefined;
            throw error;
          }
        },
        account: async () => {
          const account = await ses.send(new GetAccountCommand({}));
          return { productionAccess: account.ProductionAccessEnabled === true, sendingEnabled: account.SendingEnabled !== false };
        },
      },
      ...(sns && target.alarmTopicArn
        ? {
            alarms: {
              topicArn: target.alarmTopicArn,
              list: async () => {
                const out = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: target.alarmTopicArn }));
                return (out.Subscriptions ?? []).map((s) => ({ protocol: s.Protocol ?? '?', endpoint: s.Endpoint ?? '?', pending: s.SubscriptionArn === 'PendingConfirmation' }));
              },
            },
          }
        : {}),
      post: async (url, body, headers) => {
        const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(15_000) });
        return { status: res.status, body: await res.text() };
      },
    });
    print(`dunning doctor: ${target.label}`);
    for (const line of formatDoctor(results)) print(line);
    const failed = results.filter((r) => r.status === 'fail').length;
    if (failed > 0) throw new CliError(`${failed} of ${results.length} checks failed`, 1);
  } finally {
    secrets.destroy();
    ses.destroy();
    sns?.destroy();
  }
}
