// The two Stripe credentials in Secrets Manager. The template never holds a value: either you pass
// secrets you already have, or placeholders are generated and you put the real values afterwards:
//   aws secretsmanager put-secret-value --secret-id <arn> --secret-string sk_live_...
import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface StripeSecretsProps {
  /**
   * A secret whose value is the Stripe secret key (`sk_...`, or a restricted `rk_...` with invoices
   * and subscriptions write access). @default - a new secret holding a generated placeholder
   */
  readonly apiKey?: ISecret;
  /**
   * A secret whose value is the webhook endpoint's signing secret (`whsec_...`).
   * @default - a new secret holding a generated placeholder
   */
  readonly webhookSigningSecret?: ISecret;
  /** What happens to secrets created here when they leave the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class StripeSecrets extends Construct {
  readonly apiKey: ISecret;
  readonly webhookSigningSecret: ISecret;

  constructor(scope: Construct, id: string, props: StripeSecretsProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.apiKey =
      props.apiKey ??
      placeholder(this, 'ApiKey', 'Stripe secret API key used by the dunning functions (sk_... or rk_...).', removalPolicy);
    this.webhookSigningSecret =
      props.webhookSigningSecret ??
      placeholder(this, 'WebhookSigningSecret', 'Signing secret of the dunning Stripe webhook endpoint (whsec_...).', removalPolicy);
  }
}

/**
 * A secret whose initial value Secrets Manager generates at deploy time, so nothing sensitive is in
 * the template. Until it is replaced, Stripe rejects the key and signatures fail to verify: the
 * functions fail closed.
 */
function placeholder(scope: Construct, id: string, description: string, removalPolicy: RemovalPolicy): Secret {
  const secret = new Secret(scope, id, {
    description: `${description} Generated placeholder: set the real value with put-secret-value.`,
    generateSecretString: { excludePunctuation: true, passwordLength: 32 },
    removalPolicy,
  });
  // The ARN is not sensitive, and it is the --secret-id the operator needs after the first deploy.
  new CfnOutput(scope, `${id}SecretArn`, {
    value: secret.secretArn,
    description: `${description} Put the real value: aws secretsmanager put-secret-value --secret-id <this ARN>`,
  });
  return secret;
}
