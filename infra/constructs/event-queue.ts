// The webhook's event queue: SQS FIFO, so the router takes each customer's events in the order they
// were stored (MessageGroupId = the customer) and one copy of each event id within five minutes
// (MessageDeduplicationId = the event id). A message the router fails maxReceiveCount times moves
// to a FIFO dead-letter queue, where DunningAlarms alarms on its first message.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue.ts';

export interface EventQueueProps {
  /**
   * How long a received message stays hidden from other consumers. AWS's guidance for a Lambda
   * event source is six times the function's timeout, so a slow invocation never sees its message
   * handed to another. @default Duration.seconds(180), six times route-events' 30 s
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives before a message moves to the dead-letter queue. Five or more, as AWS advises for a
   * Lambda consumer: a throttled invocation counts as a receive too. Ten, about half an hour at the
   * default visibility, so an event the router could not route while Stripe's budget was spent on a
   * burst is tried again well past it; an event that fails for good waits that long before its alarm,
   * holding back only its own customer's later events. @default 10
   */
  readonly maxReceiveCount?: number;
  /** Both queues hold events not yet routed. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class EventQueue extends Construct {
  readonly queue: Queue;
  /** Events the router failed `maxReceiveCount` times, kept 14 days, in their groups' order. */
  readonly deadLetterQueue: Queue;
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: EventQueueProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.maxReceiveCount = props.maxReceiveCount ?? 10;
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetterQueue', { removalPolicy, fifo: true });
    this.queue = new Queue(this, 'Queue', {
      fifo: true,
      // High-throughput FIFO: dedupe and throughput per group. An event id always falls in the same
      // group (its customer), so deduping per group drops exactly what deduping per queue would,
      // and a burst on the 1st of the month is not capped at 300 sends a second for the whole queue.
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      contentBasedDeduplication: false,
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(180),
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
      removalPolicy,
    });
  }
}
