// The event inbox on an SQS FIFO queue: one message per Stripe event, grouped by the event's group
// (its customer) so the router takes a customer's events in order, deduplicated on the event id.
// SendMessage goes through aws-json-call.ts, not the SQS client: the webhook is the one function
// that bundles this, and its size and init are budgeted (see that module for why).
import type { EventInbox, InboxEvent } from '../domain/ports.ts';
import { awsJsonCall, type AwsJsonCallOptions } from './aws-json-call.ts';

/** SQS caps MessageGroupId and MessageDeduplicationId at 128 characters; Stripe's ids are far shorter. */
const MAX_ID_LENGTH = 128;

export class SqsEventInbox implements EventInbox {
  constructor(
    private readonly queueUrl: string,
    private readonly options: AwsJsonCallOptions = {},
  ) {}

  async store(event: InboxEvent): Promise<void> {
    // The request goes to the regional endpoint (or AWS_ENDPOINT_URL_SQS), never to the queue
    // URL's host: locally that variable points at the IAM check in front of the stand-in.
    await awsJsonCall(
      'sqs',
      'SendMessage',
      {
        QueueUrl: this.queueUrl,
        MessageBody: event.body,
        MessageGroupId: event.group.slice(0, MAX_ID_LENGTH),
        // Within five minutes SQS keeps one copy per event id; the idempotency record behind the
        // router covers every later redelivery.
        MessageDeduplicationId: event.id.slice(0, MAX_ID_LENGTH),
      },
      this.options,
    );
  }
}
