// The one-click "update payment details" link, GET /u/{token}: a public Function URL whose function
// checks the signed token, the case and a per-token rate limit, then answers 302 to a fresh Stripe
// billing portal session. The URL has no AWS auth because the customer's browser opens it from an
// email; the HMAC-signed token is the credential, bound to one customer and one case, and it expires.
import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '#shared/config.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import { CASES_BY_CUSTOMER } from '#shared/adapters/table.ts';
import { DunningFunction } from './dunning-function.ts';

export interface UpdatePaymentLinkProps {
  /** The validated policy file, bundled into the function: each case's My Account URL, the brand name of its pages. */
  readonly policies: PolicySet;
  /** The dunning table: the function reads the case and counts opens per token (GetItem, UpdateItem only). */
  readonly table: ITable;
  /** The Stripe API key secret: the function reads the invoice and creates the portal session. */
  readonly stripeApiKey: ISecret;
  /**
   * The secret whose value signs the links (HMAC-SHA256; at least 32 characters).
   * @default - a new secret with a random 64-character value generated at deploy time
   */
  readonly signingKey?: ISecret;
  /** What happens to a signing key created here when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class UpdatePaymentLink extends Construct {
  readonly handler: DunningFunction;
  readonly functionUrl: FunctionUrl;
  /** Base URL of the links: `${url}u/{token}`. */
  readonly url: string;
  readonly signingKey: ISecret;
  /** The signing key when this construct created it (for the rotation acknowledgement); else undefined. */
  readonly generatedSigningKey?: Secret;

  constructor(scope: Construct, id: string, props: UpdatePaymentLinkProps) {
    super(scope, id);
    this.generatedSigningKey = props.signingKey
      ? undefined
      : new Secret(this, 'SigningKey', {
          description: 'Signs the one-click "update payment details" links in dunning notices (HMAC-SHA256).',
          generateSecretString: { excludePunctuation: true, passwordLength: 64 },
          removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        });
    this.signingKey = props.signingKey ?? this.generatedSigningKey!;

    this.handler = new DunningFunction(this, 'OpenPaymentLink', {
      name: 'open-payment-link',
      description: "Dunning: opens a fresh Stripe billing portal session from a notice's signed link",
      policies: props.policies,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    })
      // The case, and the per-token open counter (a conditional update).
      .bindTable(props.table, ['dynamodb:GetItem', 'dynamodb:UpdateItem'])
      // A heads-up's link looks up the cases of its customer (one may have opened since).
      .bindTableIndex(props.table, CASES_BY_CUSTOMER.indexName, ['dynamodb:Query'])
      .bindSecret(ENV.stripeApiKeySecretArn, props.stripeApiKey)
      .bindSecret(ENV.linkSigningKeySecretArn, this.signingKey);

    // No CORS: a browser navigates here (a top-level GET), it never fetches it from a script.
    this.functionUrl = this.handler.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    this.url = this.functionUrl.url;
    new CfnOutput(this, 'Url', {
      value: this.url,
      description: 'One-click "update payment details" links: GET <url>u/{token}, as sent in every notice',
    });
  }

  /** Lets `fn` make links: reads the signing key, and knows the base URL (DUNNING_LINK_BASE_URL). */
  grantIssue(fn: DunningFunction): DunningFunction {
    fn.bindSecret(ENV.linkSigningKeySecretArn, this.signingKey);
    fn.addEnvironment(ENV.linkBaseUrl, this.url);
    return fn;
  }
}
