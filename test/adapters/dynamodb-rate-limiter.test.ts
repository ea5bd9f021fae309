// The fixed-window rate limiter on dynalite: a conditional counter per key and window, correct even
// though dynalite never deletes items by TTL.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRateLimiter } from '#shared/adapters/dynamodb-rate-limiter.ts';
import { keys, TABLE_KEYS } from '#shared/adapters/table.ts';
import { startLocalTable, TABLE_NAME, type LocalTable } from './helpers.ts';

const WINDOW_MS = 10 * 60 * 1000;
const T0 = new Date('2026-03-01T12:00:00Z'); // the start of a 10-minute window

let table: LocalTable;
let limiter: DynamoRateLimiter;
beforeAll(async () => {
  table = await startLocalTable();
  limiter = new DynamoRateLimiter(table.documentClient, TABLE_NAME);
});
afterAll(async () => {
  await table?.close();
});

const takeMany = async (key: string, n: number, at: Date) => {
  const results: boolean[] = [];
  for (let i = 0; i < n; i++) results.push(await limiter.take(key, 3, WINDOW_MS, at));
  return results;
};

describe('DynamoRateLimiter', () => {
  it('allows `limit` takes in a window and refuses the rest', async () => {
    expect(await takeMany('k-limit', 5, T0)).toEqual([true, true, true, false, false]);
  });

  it('starts the next window from zero, even though the old window item is still there', async () => {
    await takeMany('k-window', 3, T0);

    expect(await limiter.take('k-window', 3, WINDOW_MS, new Date(T0.getTime() + WINDOW_MS - 1))).toBe(false);
    expect(await takeMany('k-window', 4, new Date(T0.getTime() + WINDOW_MS))).toEqual([true, true, true, false]);
  });

  it('counts each key on its own', async () => {
    await takeMany('k-a', 3, T0);

    expect(await limiter.take('k-b', 3, WINDOW_MS, T0)).toBe(true);
  });

  it('never counts past the limit under concurrent takes', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => limiter.take('k-concurrent', 3, WINDOW_MS, T0)));

    expect(results.filter(Boolean)).toHaveLength(3);
  });

  it('marks each window item to expire a window after it ends, for DynamoDB TTL in AWS', async () => {
    await limiter.take('k-ttl', 3, WINDOW_MS, T0);

    const { Item } = await table.documentClient.send(new GetCommand({ TableName: TABLE_NAME, Key: keys.rateWindow('k-ttl', T0.getTime()) }));
    expect(Item).toMatchObject({ hits: 1, [TABLE_KEYS.ttlAttribute]: (T0.getTime() + 2 * WINDOW_MS) / 1000 });
  });

  it("takes an endpoint's count with the account's in one write: both have room and both count, or neither does", async () => {
    const at = T0;
    expect(await limiter.take('k-sub', 10, WINDOW_MS, at, { name: 'POST /v1/invoices/:id/pay', limit: 1 })).toBe(true);
    // The endpoint is full: the account's count does not move either.
    expect(await limiter.take('k-sub', 10, WINDOW_MS, at, { name: 'POST /v1/invoices/:id/pay', limit: 1 })).toBe(false);
    expect(await limiter.take('k-sub', 10, WINDOW_MS, at, { name: 'GET /v1/invoices/:id', limit: 1 })).toBe(true);

    const { Item } = await table.documentClient.send(new GetCommand({ TableName: TABLE_NAME, Key: keys.rateWindow('k-sub', at.getTime()) }));
    expect(Item).toMatchObject({ hits: 2, 'hits:POST /v1/invoices/:id/pay': 1, 'hits:GET /v1/invoices/:id': 1 });
  });

  it("leaves the endpoint's count alone when the account's window is full", async () => {
    expect(await limiter.take('k-full', 1, WINDOW_MS, T0, { name: 'GET /v1/invoices/:id', limit: 5 })).toBe(true);
    expect(await limiter.take('k-full', 1, WINDOW_MS, T0, { name: 'GET /v1/customers/:id', limit: 5 })).toBe(false);

    const { Item } = await table.documentClient.send(new GetCommand({ TableName: TABLE_NAME, Key: keys.rateWindow('k-full', T0.getTime()) }));
    expect(Item?.['hits:GET /v1/customers/:id']).toBeUndefined();
  });
});
