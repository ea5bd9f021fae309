// Publishes the merchant's events (shared/dunning/publish-events.ts). Invoked two ways:
// - by the table's stream (KEYS_ONLY, filtered to new outbox entries): publishes those entries and
//   reports the ones the bus refused as batch item failures, so the stream retries only them;
// - on a schedule (every minute): the sweep publishes whatever has stayed in the outbox, so an
//   event the stream gave up on is never lost.
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { publishEntries, sweepOutbox, type EntryRef } from '#shared/dunning/publish-events.ts';
import { publisherDeps, type PublisherDeps } from '#functions/_runtime/publisher-deps.ts';
import { instrument, logger } from '#functions/_runtime/powertools.ts';

const CASE_PREFIX = 'CASE#';

/** The scheduled sweep's payload (EventBridge Scheduler or a rule): anything that is not a stream batch. */
type SweepEvent = { source?: string; 'detail-type'?: string };

export function createHandler(deps: () => Promise<PublisherDeps>) {
  return async (event: DynamoDBStreamEvent | SweepEvent): Promise<DynamoDBBatchResponse | { swept: number; published: number; failed: number }> => {
    if (!('Records' in event)) {
      const result = await sweepOutbox(await deps());
      return { swept: result.found, published: result.published, failed: result.failed.length };
    }
    const refs: Array<EntryRef & { sequence: string }> = [];
    for (const record of event.Records) {
      const pk = record.dynamodb?.Keys?.pk?.S;
      const sk = record.dynamodb?.Keys?.sk?.S;
      const sequence = record.dynamodb?.SequenceNumber ?? '';
      // The mapping's filter lets only outbox entries through; anything else is not ours to publish.
      if (!pk?.startsWith(CASE_PREFIX) || !sk) continue;
      refs.push({ invoiceId: pk.slice(CASE_PREFIX.length), entryKey: sk, sequence });
    }
    const result = await publishEntries(await deps(), refs);
    // The stream retries from the first failure on (ReportBatchItemFailures): name the earliest.
    const failed = new Set(result.failed.map((ref) => `${ref.invoiceId}|${ref.entryKey}`));
    const first = refs.find((ref) => failed.has(`${ref.invoiceId}|${ref.entryKey}`));
    if (first) logger.warn('events refused by the bus; the stream retries them', { failed: result.failed.length });
    return { batchItemFailures: first ? [{ itemIdentifier: first.sequence }] : [] };
  };
}

export const handler = instrument('publish-events', createHandler(publisherDeps));
