import { IdempotencyAlreadyInProgressError, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { createHash } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventDedupe } from '#shared/adapters/processed-events.ts';
import { keys } from '#shared/adapters/table.ts';
import { startLocalTable, TABLE_NAME, type LocalTable } from './helpers.ts';

// Powertools Idempotency against dynalite, with the records in the dunning table.

interface StripeEventLike {
  id: string;
  type: string;
}

let table: LocalTable;
let eventCounter = 0;

beforeAll(async () => {
  table = await startLocalTable();
});

afterAll(async () => {
  await table?.close();
});

function anEvent(): StripeEventLike {
  eventCounter += 1;
  return { id: `evt_${Date.now()}_${eventCounter}`, type: 'invoice.payment_failed' };
}

/** The part of a Lambda context Powertools reads: how long the invocation may still run. */
function lambdaContext(remainingMs: number) {
  return { getRemainingTimeInMillis: () => remainingMs } as unknown as Context;
}

/**
 * A deduplicated handler that counts its runs; `body` can make it slow or fail. Like the webhook
 * should, it registers the invocation's context so an in-progress record expires with the Lambda.
 */
function countingHandler(
  body: (event: StripeEventLike) => Promise<unknown> = async () => undefined,
  { remainingMs }: { remainingMs?: number } = { remainingMs: 30_000 },
) {
  const runs: string[] = [];
  const dedupe = createEventDedupe({ client: table.client, tableName: TABLE_NAME, ttlDays: 7 });
  if (remainingMs !== undefined) dedupe.config.registerLambdaContext(lambdaContext(remainingMs));
  const handler = makeIdempotent(async (event: StripeEventLike) => {
    runs.push(event.id);
    await body(event);
    return { handled: event.id };
  }, dedupe);
  return { handler, runs };
}

/** Powertools keys a record by a hash of the selected payload: base64 md5 of the id's JSON. */
function sortKeyFor(eventId: string): string {
  return `stripe-event#${createHash('md5').update(JSON.stringify(eventId)).digest('base64')}`;
}

async function recordFor(eventId: string) {
  const out = await table.documentClient.send(
    new GetCommand({
      TableName: TABLE_NAME,
      Key: { pk: keys.processedEventsPartition, sk: sortKeyFor(eventId) },
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

/** Waits for the handler's INPROGRESS record to be written, and returns it. */
async function inProgressRecord(eventId: string) {
  for (let i = 0; i < 200; i++) {
    const record = await recordFor(eventId);
    if (record?.status === 'INPROGRESS') return record;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no in-progress record for ${eventId}`);
}

async function sleepUntil(epochMs: number) {
  const wait = epochMs - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

describe('createEventDedupe', () => {
  it('runs the handler once for an event delivered twice, returning the first result again', async () => {
    const { handler, runs } = countingHandler();
    const event = anEvent();

    const first = await handler(event);
    const second = await handler({ ...event });

    expect(runs).toEqual([event.id]);
    expect(second).toEqual(first);
  });

  it('stores the record under the events partition with an expiry in epoch seconds', async () => {
    const { handler } = countingHandler();
    const event = anEvent();
    const before = Math.floor(Date.now() / 1000);

    await handler(event);

    const record = await recordFor(event.id);
    expect(record).toMatchObject({ pk: keys.processedEventsPartition, status: 'COMPLETED' });
    expect(Number(record?.expiration)).toBeGreaterThanOrEqual(before + 7 * 86_400);
    expect(Number(record?.expiration)).toBeLessThan(before + 7 * 86_400 + 60);
  });

  it('runs the handler once for two concurrent deliveries; the other gets IdempotencyAlreadyInProgressError', async () => {
    const { handler, runs } = countingHandler(() => new Promise((resolve) => setTimeout(resolve, 300)));
    const event = anEvent();

    const results = await Promise.allSettled([handler(event), handler({ ...event })]);

    expect(runs).toEqual([event.id]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason).toBeInstanceOf(IdempotencyAlreadyInProgressError);
  });

  it('forgets an event whose handler threw, so a redelivery runs it again', async () => {
    let fail = true;
    const { handler, runs } = countingHandler(async () => {
      if (fail) throw new Error('Step Functions throttled');
    });
    const event = anEvent();

    await expect(handler(event)).rejects.toThrow('Step Functions throttled');
    fail = false;
    await handler({ ...event });

    expect(runs).toEqual([event.id, event.id]);
  });

  it('runs the handler again once the record has expired, although dynalite never deletes it', async () => {
    const { handler, runs } = countingHandler();
    const event = anEvent();
    await handler(event);
    expect(await recordFor(event.id)).toBeDefined();
    await table.documentClient.send(
      new UpdateCommand({
        TableName: TABLE_NAME,
        Key: { pk: keys.processedEventsPartition, sk: sortKeyFor(event.id) },
        UpdateExpression: 'SET expiration = :past',
        ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 60 },
      }),
    );

    await handler({ ...event });

    expect(runs).toEqual([event.id, event.id]);
  });

  it('lets a redelivery take over once the invocation holding the event has run out of time', async () => {
    const hung = countingHandler(() => new Promise(() => undefined), { remainingMs: 200 });
    const event = anEvent();
    void hung.handler(event); // never settles, like a Lambda that timed out mid-way
    const record = await inProgressRecord(event.id);
    await expect(hung.handler({ ...event })).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);

    await sleepUntil(Number(record.in_progress_expiration) + 20);
    const redelivery = countingHandler();
    await redelivery.handler({ ...event });

    expect(redelivery.runs).toEqual([event.id]);
  });

  it('without a Lambda context, blocks redeliveries of a hung event until the record expires', async () => {
    // Why the handler must register its context: the in-progress record then has no deadline.
    const hung = countingHandler(() => new Promise(() => undefined), { remainingMs: undefined });
    const event = anEvent();
    void hung.handler(event);
    expect(await inProgressRecord(event.id)).not.toHaveProperty('in_progress_expiration');

    const redelivery = countingHandler();
    await expect(redelivery.handler({ ...event })).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);
    expect(redelivery.runs).toEqual([]);
  });

  it('keeps different events apart', async () => {
    const { handler, runs } = countingHandler();
    const a = anEvent();
    const b = anEvent();

    await handler(a);
    await handler(b);

    expect(runs).toEqual([a.id, b.id]);
  });

  it('refuses an event without an id instead of processing it unguarded', async () => {
    const { handler, runs } = countingHandler();

    await expect(handler({ type: 'invoice.paid' } as StripeEventLike)).rejects.toThrow();
    expect(runs).toEqual([]);
  });

  it('works with the DocumentClient the Lambda wiring passes', async () => {
    const dedupe = createEventDedupe({ client: table.documentClient, tableName: TABLE_NAME, ttlDays: 7 });
    dedupe.config.registerLambdaContext(lambdaContext(30_000));
    const runs: string[] = [];
    const handler = makeIdempotent(async (event: StripeEventLike) => {
      runs.push(event.id);
      return 'ok';
    }, dedupe);
    const event = anEvent();

    await handler(event);
    await handler({ ...event });

    expect(runs).toEqual([event.id]);
  });
});
