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
import { ENV, PACING_WAIT_MS, STRIPE_BUDGET_DEFAULTS } from '#shared/config.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import { CASES_BY_CUSTOMER } from '#shared/adapters/table.ts';
import { DunningFunction, TABLE_ITEM_ACCESS } from './dunning-function.ts';
import { EventQueue } from './event-queue.ts';
import type { NoticeEmail } from './notice-email.ts';

/** Messages per route-events invocation: the groups in a batch are routed at once, each in order. */
export const ROUTE_EVENTS_BATCH_SIZE = 10;

/**
 * How many route-events batches may be in flight at once (the mapping's maximum concurrency), for a
 * Stripe budget of `perEndpointPerSecond`. A fresh invoice.payment_failed costs the router one read
 * of GET /v1/invoices/{id}, the endpoint the stages read too. Unbounded, a burst of 10,000 events
 * would put thousands of messages in flight at once, each waiting at most PACING_WAIT_MS.stage for
 * its share of the budget: most would fail, come back after the visibility timeout, and after
 * maxReceiveCount receives land in the dead-letter queue. Bounded, the backlog waits in the queue,
 * where waiting costs nothing and counts no receive: at most as many messages are in flight as half
 * the endpoint's budget (the other half is the stages') serves within the pacing wait. Never under
 * 2, Lambda's minimum (docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
 */
export function routerConcurrencyFor(perEndpointPerSecond: number): number {
  const servedWithinWait = (perEndpointPerSecond / 2) * (PACING_WAIT_MS.stage / 1000);
  return Math.max(2, Math.min(1000, Math.floor(servedWithinWait / ROUTE_EVENTS_BATCH_SIZE)));
}

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
  /** Receives of a queued event before it moves to the dead-letter queue. @default 10 */
  readonly maxReceiveCount?: number;
  /**
   * The Stripe requests per second per endpoint the product allows itself (the request budget's),
   * which bounds how many router batches run at once (routerConcurrencyFor).
   * @default 8, STRIPE_BUDGET_DEFAULTS' per-endpoint figure in either mode
   */
  readonly stripePerEndpointPerSecond?: number;
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
      .consumeQueue(this.events.queue, {
        batchSize: ROUTE_EVENTS_BATCH_SIZE,
        maxConcurrency: routerConcurrencyFor(props.stripePerEndpointPerSecond ?? STRIPE_BUDGET_DEFAULTS.live.perEndpointPerSecond),
      });

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
