// Stripe's other way in: its Amazon EventBridge event destination. A rule on the partner event bus
// Stripe created sends the handled event types to handle-eventbridge, which routes them like the
// webhook does. No signature exists on this path: only Stripe's partner event source can put events
// on its partner bus, so the bus is the trust boundary. Whatever cannot be delivered or processed
// after the retries lands in one dead-letter queue (DunningAlarms alarms on its first message).
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Match, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { ENV } from '#shared/config.ts';
import { STRIPE_PARTNER_SOURCE_PREFIX } from '#shared/dunning/eventbridge.ts';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import { CASES_BY_CUSTOMER } from '#shared/adapters/table.ts';
import { DunningFunction, TABLE_ITEM_ACCESS, type DunningFunctionName } from './dunning-function.ts';
import type { NoticeEmail } from './notice-email.ts';

/** The functions/ folder of the handler. */
const HANDLER_NAME: DunningFunctionName = 'handle-eventbridge';

export interface EventBridgeIngestProps {
  /**
   * The partner event bus Stripe's event destination feeds. It has the name of the partner event
   * source Stripe created, `aws.partner/stripe.com/ed_…`, and exists once you associate that source
   * with an event bus in the EventBridge console.
   */
  readonly eventBusName: string;
  /** The validated policy file, bundled into the function (it chooses each case's policy). */
  readonly policies: PolicySet;
  /** The dunning table: cases, and the idempotency records shared with the webhook. */
  readonly table: ITable;
  /** Started per failed invoice; stopped when the invoice is paid or the subscription ends. */
  readonly stateMachine: IStateMachine;
  /** Stripe API key secret: the router re-reads the invoice and the customer's locale. */
  readonly stripeApiKey: ISecret;
  /** The sender of the confirmation sent when `invoice.paid` arrives. */
  readonly email: NoticeEmail;
  /**
   * How often EventBridge retries an event it could not hand to Lambda. @default 8
   */
  readonly retryAttempts?: number;
  /** How long EventBridge keeps retrying such an event. @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Applied to the log group and the dead-letter queue. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class EventBridgeIngest extends Construct {
  readonly handler: DunningFunction;
  readonly rule: Rule;
  /**
   * Events that could not be processed: ones EventBridge failed to hand to Lambda (the message is
   * the event), and invocations that failed every attempt (a Lambda destination record, the event
   * under `requestPayload`). Either way the event is intact, to invoke handle-eventbridge with again.
   */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: EventBridgeIngestProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.eventBusName) && !props.eventBusName.startsWith(STRIPE_PARTNER_SOURCE_PREFIX)) {
      throw new Error(
        `ingest.eventBridge.eventBusName: "${props.eventBusName}" is not a Stripe partner event bus; use the name of the partner event source Stripe created, e.g. "${STRIPE_PARTNER_SOURCE_PREFIX}ed_…"`,
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetterQueue', { removalPolicy });

    this.handler = new DunningFunction(this, 'HandleEventBridge', {
      name: HANDLER_NAME,
      description: 'Dunning: routes Stripe events from the EventBridge partner bus and starts or stops the case executions',
      policies: props.policies,
      logRetention: props.logRetention,
      logRemovalPolicy: removalPolicy,
    })
      .bindTable(props.table, TABLE_ITEM_ACCESS)
      // The router finds a customer's cases (a new card, a deleted customer, a changed subscription).
      .bindTableIndex(props.table, CASES_BY_CUSTOMER.indexName, ['dynamodb:Query'])
      .bindStateMachine(props.stateMachine)
      .bindSecret(ENV.stripeApiKeySecretArn, props.stripeApiKey)
      .bindEmail(props.email);

    // EventBridge invokes Lambda asynchronously: its retry policy and dead-letter queue cover only a
    // failed hand-over. An error thrown by the function (a dependency down, a concurrent delivery of
    // the same event) is retried by Lambda, and an invocation that fails every attempt goes to the
    // same queue instead of being dropped.
    this.handler.keepFailedInvocations(this.deadLetterQueue);

    const bus = EventBus.fromEventBusName(this, 'PartnerBus', props.eventBusName);
    this.rule = new Rule(this, 'StripeEvents', {
      eventBus: bus,
      description: 'Dunning: the Stripe event types the router handles, to handle-eventbridge',
      eventPattern: {
        source: Match.prefix(STRIPE_PARTNER_SOURCE_PREFIX),
        detailType: [...HANDLED_EVENT_TYPES],
      },
      targets: [
        new LambdaFunction(this.handler, {
          retryAttempts: props.retryAttempts ?? 8,
          maxEventAge: props.maxEventAge ?? Duration.hours(24),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
  }
}
