// Where events that failed every retry wait for a person: kept 14 days, encrypted with an
// SQS-managed key (EventBridge and SNS can write to it without a key policy, unlike the aws/sqs
// key), TLS only. Every asynchronous entry point (EventBridge rules, the SES events topic, the
// webhook's event queue) has one.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /**
   * It holds events not yet processed: deleting it with the stack would lose them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * A FIFO queue's dead-letter queue must be FIFO too (SQS refuses a redrive policy across kinds).
   * @default false
   */
  readonly fifo?: boolean;
}

export class DeadLetterQueue extends Queue {
  constructor(scope: Construct, id: string, props: DeadLetterQueueProps = {}) {
    super(scope, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ...(props.fifo ? { fifo: true } : {}),
    });
  }
}
