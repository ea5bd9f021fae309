// The router behind the webhook: the SQS FIFO event source mapping hands it the stored Stripe events
// in batches, in order per customer; it routes each once and reports the ones to hand over again.
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { routeStoredEvents, type IngestDeps } from '#shared/dunning/route-events.ts';
import { routeEventsDeps } from '#functions/_runtime/ingest-deps.ts';
import { instrument } from '#functions/_runtime/powertools.ts';

export function createHandler(deps: () => Promise<IngestDeps>) {
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    const d = await deps();
    if (context) d.registerDeadline(context);
    const { failed } = await routeStoredEvents(
      d,
      event.Records.map((record) => ({
        messageId: record.messageId,
        // A FIFO queue always sets it; a message without one has no order to keep.
        group: record.attributes.MessageGroupId ?? record.messageId,
        body: record.body,
      })),
    );
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

export const handler = instrument('route-events', createHandler(routeEventsDeps));
