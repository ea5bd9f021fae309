// A case's timeline: one item per entry, in the case's partition so it reads in one query.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { TimelineEntry } from '../../domain/case.ts';
import type { Timeline } from '../../domain/ports.ts';
import { keys } from '../table.ts';
import { defined, type TableIO } from './table-io.ts';

/**
 * Timeline entries written in the same millisecond must all persist (the key includes `at`), and
 * from one process they should read back in the order written: a per-process counter gives the
 * order, a random suffix keeps two processes apart.
 */
let timelineCounter = 0;
function timelineSeq(): string {
  timelineCounter = (timelineCounter + 1) % 1e8;
  const random = Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
  return `${String(timelineCounter).padStart(8, '0')}${random}`;
}

export class DynamoTimeline implements Timeline {
  constructor(private readonly table: TableIO) {}

  async appendTimeline(invoiceId: string, entry: TimelineEntry): Promise<void> {
    const item: TimelineEntry = { at: entry.at, type: entry.type, stage: entry.stage, detail: entry.detail, messageId: entry.messageId, eventId: entry.eventId };
    await this.table.put({ ...defined(item), ...keys.timeline(invoiceId, entry.at, timelineSeq()) });
  }

  async listTimeline(invoiceId: string): Promise<TimelineEntry[]> {
    const items = await this.table.allPages((startKey) => this.table.client.send(
      new QueryCommand({
        TableName: this.table.name,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.case(invoiceId).pk, ':prefix': keys.timelinePrefix },
        ScanIndexForward: true,
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    ));
    return items.map(
      (item) => defined({ at: item.at, type: item.type, stage: item.stage, detail: item.detail, messageId: item.messageId, eventId: item.eventId }) as unknown as TimelineEntry,
    );
  }
}
