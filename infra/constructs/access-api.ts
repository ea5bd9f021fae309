// The access API (GET /customers/{id}/access) for the company's own app: what a customer in
// dunning may use right now. The Function URL requires SigV4 (AWS_IAM), as the banner API's does.
import { CfnOutput, type RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CASES_BY_CUSTOMER } from '#shared/adapters/table.ts';
import { ENV } from '#shared/config.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import { DunningFunction } from './dunning-function.ts';

export interface AccessApiProps {
  /** The dunning table; the API only reads it. */
  readonly table: ITable;
  /** The validated policy file: each policy's `access` block. */
  readonly policies: PolicySet;
  /** The Stripe API key: the customer's subscriptions are listed when one of them is in dunning. */
  readonly stripeApiKey: ISecret;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class AccessApi extends Construct {
  readonly handler: DunningFunction;
  readonly functionUrl: FunctionUrl;
  /** Base URL; the app calls `${url}customers/{id}/access`, signed with SigV4 for service `lambda`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: AccessApiProps) {
    super(scope, id);
    this.handler = new DunningFunction(this, 'GetAccess', {
      name: 'get-access',
      description: 'Dunning: answers what a customer may use right now',
      policies: props.policies,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    })
      // The customer's cases by the index, each read again by key: read-only.
      .bindTable(props.table, ['dynamodb:GetItem'])
      .bindTableIndex(props.table, CASES_BY_CUSTOMER.indexName, ['dynamodb:Query'])
      .bindSecret(ENV.stripeApiKeySecretArn, props.stripeApiKey);

    this.functionUrl = this.handler.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
    this.url = this.functionUrl.url;
    new CfnOutput(this, 'Url', { value: this.url, description: 'Access API (AWS_IAM): GET <url>customers/{customerId}/access' });
  }

  /** Lets the company's app (a role, a user) call the API. */
  grantInvoke(grantee: IGrantable): Grant {
    return this.functionUrl.grantInvokeUrl(grantee);
  }
}
