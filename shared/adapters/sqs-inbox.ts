// The event inbox on an SQS FIFO queue: one message per Stripe event, grouped by the event's group
// (its customer) so the router takes a customer's events in order, deduplicated on the event id.
// Its own client module, not aws-clients.ts: the webhook bundles this and nothing else of the SDK.
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EventInbox, InboxEvent } from '../domain/ports.ts';

/** SQS caps MessageGroupId and MessageDeduplicationId at 128 characters; Stripe's ids are far shorter. */
const MAX_ID_LENGTH = 128;

export function createSqsClient(): SQSClient {
  return new SQSClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
    // The queue URL's host is the regional endpoint in AWS; locally the endpoint variable points at
    // the IAM check in front of the stand-in, which the URL's host must not override.
    useQueueUrlAsEndpoint: false,
  });
}

export class SqsEventInbox implements EventInbox {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async store(event: InboxEvent): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: event.body,
        MessageGroupId: event.group.slice(0, MAX_ID_LENGTH),
        // Within five minutes SQS keeps one copy per event id; the idempotency record behind the
        // router covers every later redelivery.
        MessageDeduplicationId: event.id.slice(0, MAX_ID_LENGTH),
      }),
    );
  }
}
