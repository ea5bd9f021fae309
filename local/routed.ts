// What routing a Stripe event came to, read back from its dedupe record (Powertools idempotency
// keeps the router's result under `data`, the key being `stripe-event#` and the base64 MD5 of the
// event id as JSON). The webhook answers before routing (it stores the event in the queue), so the
// live timeline and the tests learn the outcome here, after route-events has taken the event.
import { createHash } from 'node:crypto';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { keys } from '#shared/adapters/table.ts';

export async function routedResult(documentClient: DynamoDBDocumentClient, tableName: string, eventId: string): Promise<Record<string, unknown> | undefined> {
  const sk = `stripe-event#${createHash('md5').update(JSON.stringify(eventId)).digest('base64')}`;
  const { Item } = await documentClient.send(new GetCommand({ TableName: tableName, Key: { pk: keys.processedEventsPartition, sk } }));
  const data: unknown = Item?.data;
  if (typeof data === 'string') return JSON.parse(data) as Record<string, unknown>;
  return data && typeof data === 'object' ? (data as Record<string, unknown>) : undefined;
}

/** The ids of the Stripe events a route-events batch routed: the records it did not report failed. */
export function routedEventIds(batch: SQSEvent, answer: unknown): string[] {
  const failed = new Set(((answer as SQSBatchResponse | undefined)?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  return batch.Records.filter((record) => !failed.has(record.messageId)).flatMap((record) => {
    try {
      const id = (JSON.parse(record.body) as { id?: unknown }).id;
      return typeof id === 'string' ? [id] : [];
    } catch {
      return [];
    }
  });
}
