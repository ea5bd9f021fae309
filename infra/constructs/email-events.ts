// What SES says about each notice after it was sent: the configuration set publishes delivery,
// bounce, complaint and reject events (plus open and click when tracking is on) to an encrypted SNS
// topic, and record-email-event writes each on its case and suppresses addresses that hard-bounced
// or complained. A message that cannot be used is logged and dropped; one that failed on a
// dependency is retried by Lambda, then kept in a dead-letter queue that alarms on its first message.
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ConfigurationSetEventDestination, EmailSendingEvent, EventDestination, type IConfigurationSet } from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { DunningFunction, TABLE_ITEM_ACCESS } from './dunning-function.ts';

/** Open and click tracking. Off unless asked for: a dunning email should not carry a tracking pixel. */
export interface EmailTrackingProps {
  /** Publish Open events: SES inserts a 1x1 tracking image into each HTML email. @default false */
  readonly opens?: boolean;
  /** Publish Click events: SES rewrites each link through its click-tracking domain. @default false */
  readonly clicks?: boolean;
}

/** The event types recorded on every case, whatever the tracking settings. */
export const RECORDED_EMAIL_EVENTS: readonly EmailSendingEvent[] = [
  EmailSendingEvent.DELIVERY,
  EmailSendingEvent.BOUNCE,
  EmailSendingEvent.COMPLAINT,
  EmailSendingEvent.REJECT,
];

export interface EmailEventsProps {
  /** The configuration set every notice is sent through; the event destination is added to it. */
  readonly configurationSet: IConfigurationSet;
  /** The dunning table: the case timelines, the address suppressions and the processed event ids. */
  readonly table: ITable;
  /** @default - no open or click tracking */
  readonly tracking?: EmailTrackingProps;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Applied to the log group, the dead-letter queue and the topic's key. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class EmailEvents extends Construct {
  /** SES publishes the configuration set's events here. */
  readonly topic: Topic;
  readonly handler: DunningFunction;
  /** The event types the configuration set publishes. */
  readonly events: readonly EmailSendingEvent[];
  /**
   * Events that could not be handed to the function (the SNS message), and invocations that failed
   * every retry (a Lambda destination record, the SNS event under `requestPayload`).
   */
  /** Alarmed on its first message by DunningAlarms, with the other dead-letter queues. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: EmailEventsProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    // SES publishes to an encrypted topic only with a customer managed key it may use; the AWS
    // managed aws/sns key's policy cannot grant SES.
    const key = new Key(this, 'TopicKey', {
      description: 'Encrypts the dunning email events topic (SES event publishing)',
      enableKeyRotation: true,
      removalPolicy,
    });
    const configurationSetArn = Stack.of(this).formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: props.configurationSet.configurationSetName,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        principals: [new ServicePrincipal('ses.amazonaws.com')],
        resources: ['*'], // in a key policy, "*" is this key
        conditions: { StringEquals: { 'AWS:SourceAccount': Stack.of(this).account, 'AWS:SourceArn': configurationSetArn } },
      }),
    );
    this.topic = new Topic(this, 'Topic', { masterKey: key, enforceSSL: true });

    this.events = [
      ...RECORDED_EMAIL_EVENTS,
      ...(props.tracking?.opens ? [EmailSendingEvent.OPEN] : []),
      ...(props.tracking?.clicks ? [EmailSendingEvent.CLICK] : []),
    ];
    new ConfigurationSetEventDestination(this, 'Destination', {
      configurationSet: props.configurationSet,
      destination: EventDestination.snsTopic(this.topic),
      events: [...this.events],
    });

    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetterQueue', { removalPolicy });

    this.handler = new DunningFunction(this, 'RecordEmailEvent', {
      name: 'record-email-event',
      description: 'Dunning: records SES delivery, bounce, complaint and reject events on the case, and suppresses bounced addresses',
      logRetention: props.logRetention,
      logRemovalPolicy: removalPolicy,
    }).bindTable(props.table, TABLE_ITEM_ACCESS);
    // SNS invokes asynchronously. A message that cannot be used is acknowledged by the function; a
    // dependency failure throws, is retried twice, then kept here instead of being retried forever.
    this.handler.keepFailedInvocations(this.deadLetterQueue);
    this.topic.addSubscription(new LambdaSubscription(this.handler, { deadLetterQueue: this.deadLetterQueue }));
  }
}
