// A case's timeline: one item per entry, in the case's partition so it reads in one query.
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { TimelineEntry } from '../../domain/case.ts';
import type { Timeline } from '../../domain/ports.ts';
import { publishesEvent } from '../../events/from-timeline.ts';
import { keys, UNPUBLISHED_EVENTS } from '../table.ts';
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

/** The sort key tail of a once-only entry, before its event key. */
const ONCE_PREFIX = 'once:';
/** The attribute that orders entries of the same instant. */
const SEQ_ATTRIBUTE = 'seq';

export class DynamoTimeline implements Timeline {
  constructor(private readonly table: TableIO) {}

  async appendTimeline(invoiceId: string, entry: TimelineEntry): Promise<boolean> {
    const item: TimelineEntry = { at: entry.at, type: entry.type, stage: entry.stage, detail: entry.detail, messageId: entry.messageId, eventId: entry.eventId, facts: entry.facts, eventKey: entry.eventKey };
    // The order of entries of one instant is the write's sequence, kept on the item (listTimeline).
    // An entry with an event key is the case's once-only entry (its opening, its close, a policy
    // day's access change, a flag): its sort key is the event key, so a second writer (a call that
    // finds it missing while the first is still writing it) fails its condition and writes nothing.
    const seq = timelineSeq();
    const key = keys.timeline(invoiceId, entry.at, entry.eventKey ? `${ONCE_PREFIX}${entry.eventKey}` : seq);
    // An entry that publishes an event joins the outbox in the same write: the event is owed from
    // the moment the entry exists, and never before (shared/adapters/dynamodb/outbox.ts).
    // Its place in the outbox is the wall clock of the write: an entry's own `at` may be a test
    // clock's (locally), and the sweep looks for what has waited too long by the wall.
    const outbox = publishesEvent(entry)
      ? { [UNPUBLISHED_EVENTS.partitionKey]: UNPUBLISHED_EVENTS.value, [UNPUBLISHED_EVENTS.sortKey]: `${new Date().toISOString()}#${key.sk}` }
      : {};
    const written = { ...defined(item), [SEQ_ATTRIBUTE]: seq, ...outbox, ...key };
    if (!entry.eventKey) {
      await this.table.put(written);
      return true;
    }
    return this.table.written(new PutCommand({ TableName: this.table.name, Item: written, ConditionExpression: 'attribute_not_exists(sk)' }));
  }

  async markRecorded(invoiceId: string, eventKey: string): Promise<void> {
    // Only on an existing case; a key noted twice (two calls racing) is harmless.
    await this.table.updated(keys.case(invoiceId), {
      UpdateExpression: 'SET #recorded = list_append(if_not_exists(#recorded, :none), :key)',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#recorded': 'eventsRecorded' },
      ExpressionAttributeValues: { ':none': [], ':key': [eventKey] },
    });
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
    // In order of `at`, then of the write's sequence (an item from before the sequence attribute
    // has it as its sort key's tail). The sort is stable, and the query already gave `at`'s order.
    return items
      .map((item) => ({ item, seq: String(item[SEQ_ATTRIBUTE] ?? String(item.sk).slice(String(item.sk).lastIndexOf('#') + 1)) }))
      .sort((a, b) => compare(String(a.item.at), String(b.item.at)) || compare(a.seq, b.seq))
      .map(({ item }) => entryOfItem(item));
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The entry a timeline item holds, less the item's keys and bookkeeping. */
export function entryOfItem(item: Record<string, unknown>): TimelineEntry {
  return defined({ at: item.at, type: item.type, stage: item.stage, detail: item.detail, messageId: item.messageId, eventId: item.eventId, facts: item.facts, eventKey: item.eventKey }) as unknown as TimelineEntry;
}
