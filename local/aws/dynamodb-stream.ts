// The table's stream and the event source mapping on it, locally: dynalite has no DynamoDB Streams,
// so each PutItem it stores (reported by local/dynamodb.ts) becomes a stream record, and the records
// that pass the mapping's filter (a new outbox entry) invoke the function in batches of up to 10,
// one batch at a time, as a shard does. A batch's reported item failures are retried from the
// first one on, a few times with back-off, then left to the sweep, as the deployed mapping does
// (infra/constructs/event-publisher.ts). The sweep's schedule runs here too.
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { UNPUBLISHED_EVENTS } from '#shared/adapters/table.ts';
import type { StoredItem } from '../dynamodb.ts';

export interface LocalStreamOptions {
  tableName: string;
  streamArn: string;
  /** Invokes the function the mapping targets, synchronously, and answers what it returned. */
  invoke(event: unknown): Promise<unknown>;
  /** Waits before each retry of a failed batch; then the records are left to the sweep. @default [1000, 2000, 4000] */
  retryDelaysMs?: readonly number[];
  /** How often the sweep's schedule fires, or 0 for never. @default 60_000 (rate(1 minute)) */
  sweepEveryMs?: number;
  log?: (line: string) => void;
}

export interface LocalStream {
  /** Hand it every PutItem dynalite stored. */
  onPut(stored: StoredItem): void;
  /** Resolves once every record handed so far has been delivered (or given up on). */
  drained(): Promise<void>;
  close(): Promise<void>;
}

export function startLocalStream(options: LocalStreamOptions): LocalStream {
  const retryDelays = options.retryDelaysMs ?? [1000, 2000, 4000];
  const queue: DynamoDBRecord[] = [];
  let sequence = 0;
  let closed = false;
  let running: Promise<void> = Promise.resolve();
  let idle: Array<() => void> = [];

  const sweepEveryMs = options.sweepEveryMs ?? 60_000;
  const sweep = sweepEveryMs > 0
    ? setInterval(() => {
        if (!closed) void options.invoke({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }).catch(() => undefined);
      }, sweepEveryMs)
    : undefined;
  sweep?.unref();

  const deliver = async (batch: DynamoDBRecord[]): Promise<void> => {
    let pending = batch;
    for (let attempt = 0; pending.length > 0 && !closed; attempt += 1) {
      let failedFrom: string | undefined;
      try {
        const answer = (await options.invoke({ Records: pending } satisfies DynamoDBStreamEvent)) as DynamoDBBatchResponse | undefined;
        failedFrom = answer?.batchItemFailures?.[0]?.itemIdentifier;
      } catch {
        failedFrom = pending[0]!.dynamodb!.SequenceNumber;
      }
      if (!failedFrom) return;
      pending = pending.slice(Math.max(0, pending.findIndex((r) => r.dynamodb!.SequenceNumber === failedFrom)));
      const delay = retryDelays[attempt];
      if (delay === undefined) {
        options.log?.(`stream: ${pending.length} outbox record(s) left to the sweep after ${attempt + 1} attempts`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };

  const pump = () => {
    running = running.then(async () => {
      while (queue.length > 0 && !closed) await deliver(queue.splice(0, 10));
      if (queue.length === 0) {
        const waiting = idle;
        idle = [];
        for (const resolve of waiting) resolve();
      }
    });
  };

  return {
    onPut(stored) {
      if (closed || stored.tableName !== options.tableName) return;
      const { item } = stored;
      // The mapping's filter: an INSERT whose new image is a pending outbox entry.
      if (item[UNPUBLISHED_EVENTS.partitionKey] !== UNPUBLISHED_EVENTS.value || !item.pk || !item.sk) return;
      sequence += 1;
      queue.push({
        eventID: String(sequence),
        eventName: 'INSERT',
        eventSource: 'aws:dynamodb',
        eventSourceARN: options.streamArn,
        dynamodb: {
          Keys: { pk: { S: item.pk }, sk: { S: item.sk } },
          NewImage: Object.fromEntries(Object.entries(item).map(([name, value]) => [name, { S: value }])),
          SequenceNumber: String(sequence).padStart(21, '0'),
          StreamViewType: 'NEW_IMAGE',
        },
      });
      pump();
    },
    drained() {
      if (queue.length === 0) return running;
      return new Promise((resolve) => idle.push(resolve));
    },
    async close() {
      closed = true;
      if (sweep) clearInterval(sweep);
      await running.catch(() => undefined);
    },
  };
}
