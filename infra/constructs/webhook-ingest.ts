// Stripe's way in: the handle-webhook function behind a public Function URL. The URL has no AWS
// auth because Stripe cannot sign AWS requests; the handler verifies the Stripe-Signature header on
// the raw body instead, and rejects anything else before touching the table or the state machine.
import { CfnOutput, type RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '#shared/config.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import { CASES_BY_CUSTOMER } from '#shared/adapters/table.ts';
import { DunningFunction, TABLE_ITEM_ACCESS } from './dunning-function.ts';
import type { NoticeEmail } from './notice-email.ts';

export interface WebhookIngestProps {
  /** The validated policy file, bundled into the function (it chooses each case's policy). */
  readonly policies: PolicySet;
  /** The dunning table: cases, and the idempotency records of processed Stripe events. */
  readonly table: ITable;
  /** Started per failed invoice; stopped when the invoice is paid or the subscription ends. */
  readonly stateMachine: IStateMachine;
  /** Stripe API key secret: the handler re-reads the invoice and subscription. */
  readonly stripeApiKey: ISecret;
  /** The endpoint's signing secret, to verify Stripe-Signature. */
  readonly webhookSigningSecret: ISecret;
  /** The sender of the confirmation sent when `invoice.paid` arrives. */
  readonly email: NoticeEmail;
  /**
   * Expose the function through a Function URL for Stripe to call.
   * @default true
   */
  readonly functionUrl?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class WebhookIngest extends Construct {
  readonly handler: DunningFunction;
  /** The endpoint to register in Stripe, if a Function URL was created. */
  readonly url?: string;

  constructor(scope: Construct, id: string, props: WebhookIngestProps) {
    super(scope, id);
    this.handler = new DunningFunction(this, 'HandleWebhook', {
      name: 'handle-webhook',
      description: 'Dunning: verifies Stripe webhooks and starts or stops the case executions',
      policies: props.policies,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    })
      .bindTable(props.table, TABLE_ITEM_ACCESS)
      // The router finds a customer's cases (a new card, a deleted customer, a changed subscription).
      .bindTableIndex(props.table, CASES_BY_CUSTOMER.indexName, ['dynamodb:Query'])
      .bindStateMachine(props.stateMachine)
      .bindSecret(ENV.stripeApiKeySecretArn, props.stripeApiKey)
      .bindSecret(ENV.stripeWebhookSecretArn, props.webhookSigningSecret)
      .bindEmail(props.email);

    if (props.functionUrl ?? true) {
      // No CORS: Stripe calls server to server, and no browser should ever reach this endpoint.
      const functionUrl = this.handler.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
      this.url = functionUrl.url;
      new CfnOutput(this, 'Url', {
        value: functionUrl.url,
        description: 'Stripe webhook endpoint: add it in the Stripe dashboard, then store its signing secret',
      });
    }
  }
}
