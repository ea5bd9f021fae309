// The sparse open-cases index on dynalite: a case is in it exactly while it is open, and the
// count-open-cases function reads it through the real store and emits the gauge from it.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCaseStore } from '#shared/adapters/dynamodb/case-store.ts';
import { OPEN_CASES } from '#shared/adapters/table.ts';
import { parsePolicySet } from '#shared/policy/load.ts';
import { createHandler } from '#functions/count-open-cases/handler.ts';
import { defaultPolicy } from '../fixtures/policies.ts';
import { recordingMetrics } from '../fixtures/metrics.ts';
import { aCase, startLocalTable, TABLE_NAME, type LocalTable } from './helpers.ts';

const NOW = '2026-01-03T09:00:00.000Z';

let table: LocalTable;
let store: DynamoCaseStore;

beforeAll(async () => {
  // A table of its own: the index must hold this file's cases and nothing else.
  table = await startLocalTable();
  store = new DynamoCaseStore(table.documentClient, TABLE_NAME);
});

afterAll(async () => {
  await table?.close();
});

/** What the index itself holds (not filtered by the store): the invoice ids, newest first. */
async function indexed(): Promise<string[]> {
  const out = await table.documentClient.send(
    new QueryCommand({
      TableName: TABLE_NAME,
      IndexName: OPEN_CASES.indexName,
      KeyConditionExpression: '#open = :open',
      ExpressionAttributeNames: { '#open': OPEN_CASES.partitionKey },
      ExpressionAttributeValues: { ':open': OPEN_CASES.value },
      ScanIndexForward: false,
    }),
  );
  return (out.Items ?? []).map((item) => String(item.invoiceId));
}

describe('DynamoCaseStore.listOpenCases', () => {
  it('lists the open cases newest first, and drops each as it is recovered, terminated, closed or flagged', async () => {
    const at = (day: number) => `2026-01-0${day}T10:00:00.000Z`;
    const cases = [1, 2, 3, 4, 5, 6].map((day) => aCase({ createdAt: at(day), updatedAt: at(day) }));
    for (const c of cases) await store.createCase(c);
    const [a, b, c, d, e, f] = cases.map((x) => x.invoiceId);

    await store.closeCase(a!, 'recovered', { now: NOW, recoveredBy: 'workflow_retry' });
    await store.closeCase(b!, 'terminated', { now: NOW });
    await store.closeCase(c!, 'closed', { now: NOW, reason: 'voided' });
    await store.closeCase(d!, 'needs_attention', { now: NOW, error: { name: 'StripeUnavailableError', message: 'down' } });

    // The index is sparse: a closed case leaves it, so a count never reads the closed ones.
    expect(await indexed()).toEqual([f, e]);
    const open = await store.listOpenCases();
    expect(open.map((x) => x.invoiceId)).toEqual([f, e]);
    // The index key is the store's business, never part of a case.
    expect(open[0]).not.toHaveProperty('openCase');
    expect(await store.getCase(f!)).not.toHaveProperty('openCase');
  });

  it('puts a flagged case back in the index when an operator reopens it for a redrive', async () => {
    const c = aCase({ createdAt: '2026-01-07T10:00:00.000Z' });
    await store.createCase(c);
    await store.closeCase(c.invoiceId, 'needs_attention', { now: NOW, error: { name: 'StripeUnavailableError', message: 'down' } });
    expect(await indexed()).not.toContain(c.invoiceId);

    await store.reopenCase(c.invoiceId, NOW);

    expect(await indexed()).toContain(c.invoiceId);
    expect((await store.listOpenCases()).map((x) => x.invoiceId)).toContain(c.invoiceId);
    expect(await store.getCase(c.invoiceId)).not.toHaveProperty('openCase');
  });

  it('keeps a paused case and a case whose stage moved on in the index, with their current state', async () => {
    const c = aCase({ createdAt: '2026-01-09T10:00:00.000Z' });
    await store.createCase(c);
    await store.beginStage(c.invoiceId, 'Retry1', NOW);
    await store.setPause(c.invoiceId, '2026-01-20T00:00:00.000Z', NOW);

    const listed = (await store.listOpenCases()).find((x) => x.invoiceId === c.invoiceId);
    expect(listed).toMatchObject({ stage: 'Retry1', pausedUntil: '2026-01-20T00:00:00.000Z', status: 'open' });
  });
});

describe('count-open-cases (handler over the real store)', () => {
  it('emits OpenCases for every stage from what the index holds', async () => {
    const c = aCase({ createdAt: '2026-01-08T10:00:00.000Z' });
    await store.createCase(c);
    const metrics = recordingMetrics();
    const handler = createHandler(async () => ({
      store,
      policies: parsePolicySet(structuredClone(defaultPolicy())),
      metrics,
      clock: { now: () => new Date(NOW) },
    }));

    const count = await handler();

    const expected = await store.listOpenCases();
    expect(count.total).toBe(expected.length);
    const byStage: Record<string, number> = Object.fromEntries(metrics.of('OpenCases').map((d) => [d.dimensions.Stage!, d.value]));
    expect(byStage).toMatchObject({ Opened: expected.filter((x) => !x.stage).length, Retry1: 1, Notice3: 0, Terminate: 0 });
    expect(Object.values(byStage).reduce((sum, n) => sum + n, 0)).toBe(count.total);
  });
});
