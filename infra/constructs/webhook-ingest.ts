// Stripe's way in: the handle-webhook function behind a public Function URL, and route-events behind
// the event queue. The URL has no AWS auth because Stripe cannot sign AWS requests; the webhook
// verifies the Stripe-Signature header on the raw body instead, stores the event in the queue and
// answers. route-events routes the queued events, in order per customer, with the table, Stripe, the
// state machine and SES, none of which the webhook can reach.
import { CfnOutput, type RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '#shared/config.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import { CASES_BY_CUSTOMER } from '#shared/adapters/table.ts';
import { DunningFunction, TABLE_ITEM_ACCESS } from './dunning-function.ts';
import { EventQueue } from './event-queue.ts';
import type { NoticeEmail } from './notice-email.ts';

/** Messages per route-events invocation: the groups in a batch are routed at once, each in order. */
export const ROUTE_EVENTS_BATCH_SIZE = 10;

export interface WebhookIngestProps {
  /** The validated policy file, bundled into the router (it chooses each case's policy). */
  readonly policies: PolicySet;
  /** The dunning table: cases, and the idempotency records of processed Stripe events. */
  readonly table: ITable;
  /** Started per failed invoice; stopped when the invoice is paid or the subscription ends. */
  readonly stateMachine: IStateMachine;
  /** Stripe API key secret: the router re-reads the invoice and subscription. */
  readonly stripeApiKey: ISecret;
  /** The endpoint's signing secret, to verify Stripe-Signature: the webhook's only secret. */
  readonly webhookSigningSecret: ISecret;
  /** The sender of the confirmation sent when `invoice.paid` arrives. */
  readonly email: NoticeEmail;
  /**
   * Expose the webhook through a Function URL for Stripe to call.
   * @default true
   */
  readonly functionUrl?: boolean;
  /** Receives of a queued event before it moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Applied to the log groups and both queues. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class WebhookIngest extends Construct {
  /** handle-webhook: verifies, stores, answers. */
  readonly handler: DunningFunction;
  /** route-events: routes the stored events, in order per customer. */
  readonly router: DunningFunction;
  /** The FIFO queue between them, and its dead-letter queue. */
  readonly events: EventQueue;
  /** Events route-events failed every receive, alarmed on the first message. */
  readonly deadLetterQueue: Queue;
  /** The endpoint to register in Stripe, if a Function URL was created. */
  readonly url?: string;

  constructor(scope: Construct, id: string, props: WebhookIngestProps) {
    super(scope, id);
    this.events = new EventQueue(this, 'Events', { maxReceiveCount: props.maxReceiveCount, removalPolicy: props.logRemovalPolicy });
    this.deadLetterQueue = this.events.deadLetterQueue;

    this.handler = new DunningFunction(this, 'HandleWebhook', {
      name: 'handle-webhook',
      description: 'Dunning: verifies Stripe webhooks and stores each event in the event queue',
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    })
      .bindSecret(ENV.stripeWebhookSecretArn, props.webhookSigningSecret)
      .bindEventQueue(this.events.queue);

    this.router = new DunningFunction(this, 'RouteEvents', {
      name: 'route-events',
      description: 'Dunning: routes the queued Stripe events, in order per customer, and starts or stops the case executions',
      policies: props.policies,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    })
      .bindTable(props.table, TABLE_ITEM_ACCESS)
      // The router finds a customer's cases (a new card, a deleted customer, a changed subscription).
      .bindTableIndex(props.table, CASES_BY_CUSTOMER.indexName, ['dynamodb:Query'])
      .bindStateMachine(props.stateMachine)
      .bindSecret(ENV.stripeApiKeySecretArn, props.stripeApiKey)
      .bindEmail(props.email)
      .consumeQueue(this.events.queue, { batchSize: ROUTE_EVENTS_BATCH_SIZE });

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
