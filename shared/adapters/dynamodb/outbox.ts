// The outbox of events: timeline items written with `outbox` set (shared/adapters/dynamodb/timeline.ts),
// found through a sparse index, and taken out of it once their event is published.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Outbox, OutboxEntry } from '../../domain/ports.ts';
import { keys, UNPUBLISHED_EVENTS } from '../table.ts';
import type { Item, TableIO } from './table-io.ts';
import { entryOfItem } from './timeline.ts';

const CASE_PREFIX = 'CASE#';

export class DynamoOutbox implements Outbox {
  constructor(private readonly table: TableIO) {}

  async pendingEntry(invoiceId: string, entryKey: string): Promise<OutboxEntry | undefined> {
    const item = await this.table.get({ pk: keys.case(invoiceId).pk, sk: entryKey });
    return item && item[UNPUBLISHED_EVENTS.partitionKey] === UNPUBLISHED_EVENTS.value ? outboxEntryOf(item) : undefined;
  }

  async pendingEntries(before: string, limit: number): Promise<OutboxEntry[]> {
    // The index is eventually consistent: an entry seen here is re-read before it is published.
    const out = await this.table.call(() =>
      this.table.client.send(
        new QueryCommand({
          TableName: this.table.name,
          IndexName: UNPUBLISHED_EVENTS.indexName,
          KeyConditionExpression: '#outbox = :pending AND #outboxAt < :before',
          ExpressionAttributeNames: { '#outbox': UNPUBLISHED_EVENTS.partitionKey, '#outboxAt': UNPUBLISHED_EVENTS.sortKey },
          ExpressionAttributeValues: { ':pending': UNPUBLISHED_EVENTS.value, ':before': before },
          ScanIndexForward: true,
          Limit: limit,
        }),
      ),
    );
    return (out.Items ?? []).filter((item) => String(item.pk).startsWith(CASE_PREFIX)).map(outboxEntryOf);
  }

  async markPublished(invoiceId: string, entryKey: string): Promise<void> {
    await this.table.updated(
      { pk: keys.case(invoiceId).pk, sk: entryKey },
      {
        UpdateExpression: 'REMOVE #outbox, #outboxAt',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#outbox': UNPUBLISHED_EVENTS.partitionKey, '#outboxAt': UNPUBLISHED_EVENTS.sortKey },
      },
    );
  }
}

function outboxEntryOf(item: Item): OutboxEntry {
  return { invoiceId: String(item.pk).slice(CASE_PREFIX.length), entryKey: String(item.sk), entry: entryOfItem(item) };
}
