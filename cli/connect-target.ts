// `dunning connect` against a target: the target's Stripe key, webhook URL and signing secret.
import Stripe from 'stripe';
import { ENV } from '#shared/config.ts';
import type { Print } from './commands.ts';
import { connect } from './connect.ts';
import type { OperatorDeps } from './deps.ts';
import { CliError } from './errors.ts';
import { secretsManagerStore } from './secret-store.ts';
import type { Target } from './target.ts';

export async function connectTarget(deps: OperatorDeps, target: Target, print: Print): Promise<void> {
  if (!target.webhook) {
    throw new CliError(`${target.label} has no webhook to connect (its Function URL is off, or the stack predates this version: npx cdk deploy); with EventBridge ingest, connect the destination in the Dashboard`, 3);
  }
  if (target.metrics === 'none' && !target.env[ENV.stripeApiBase]) {
    // The local runtime on real Stripe test mode: Stripe cannot post to a loopback address.
    throw new CliError(`the local runtime uses real Stripe test mode, which cannot reach ${target.webhook.url}: forward events with \`stripe listen --forward-to ${target.webhook.url}\` and start the runtime with the secret it prints (STRIPE_WEBHOOK_SECRET); connect makes endpoints for the sandbox and for deployed stacks`, 3);
  }
  await connect(
    {
      stripe: deps.stripeClient,
      webhookUrl: target.webhook.url,
      apiVersion: Stripe.API_VERSION,
      secret: secretsManagerStore(target.webhook.signingSecretArn),
      description: `stripe-dunning: ${target.label}`,
    },
    print,
  );
}
