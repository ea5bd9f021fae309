import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCaseStore } from '#shared/adapters/dynamodb/case-store.ts';
import { keys } from '#shared/adapters/table.ts';
import { CaseClosedError, CaseNotFoundError, StoreUnavailableError } from '#shared/domain/errors.ts';
import type { Banner } from '#shared/domain/case.ts';
import { aCase, sdkError, startLocalTable, TABLE_NAME, uniqueInvoiceId, type LocalTable } from './helpers.ts';

const NOW = '2026-01-03T09:00:00.000Z';

let table: LocalTable;
let store: DynamoCaseStore;

beforeAll(async () => {
  table = await startLocalTable();
  store = new DynamoCaseStore(table.documentClient, TABLE_NAME);
});

afterAll(async () => {
  await table?.close();
});

async function openCase(overrides = {}) {
  const c = aCase(overrides);
  await store.createCase(c);
  return c;
}

describe('DynamoCaseStore.createCase', () => {
  it('creates a case and reads it back without the key attributes', async () => {
    const c = aCase();

    const result = await store.createCase(c);

    expect(result).toEqual({ created: true, case: c });
    const read = await store.getCase(c.invoiceId);
    expect(read).toEqual(c);
    expect(read).not.toHaveProperty('pk');
    expect(read).not.toHaveProperty('sk');
  });

  it('never overwrites an existing case', async () => {
    const first = await openCase({ customerName: 'First' });

    const second = await store.createCase(aCase({ invoiceId: first.invoiceId, customerName: 'Second' }));

    expect(second.created).toBe(false);
    expect(second.case.customerName).toBe('First');
    expect((await store.getCase(first.invoiceId))?.customerName).toBe('First');
  });

  it('stores optional fields that are undefined by leaving them out', async () => {
    const c = aCase({ hostedInvoiceUrl: undefined, customerLocale: undefined });

    await store.createCase(c);

    const read = await store.getCase(c.invoiceId);
    expect(read).not.toHaveProperty('hostedInvoiceUrl');
  });

  it('lets exactly one of concurrent creates win', async () => {
    const invoiceId = uniqueInvoiceId();

    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.createCase(aCase({ invoiceId, customerName: `c${i}` }))),
    );

    expect(results.filter((r) => r.created)).toHaveLength(1);
    const winner = results.find((r) => r.created)!.case.customerName;
    expect(results.every((r) => r.case.customerName === winner)).toBe(true);
  });
});

describe('DynamoCaseStore.getCase', () => {
  it('returns undefined when there is no case', async () => {
    expect(await store.getCase(uniqueInvoiceId())).toBeUndefined();
  });
});

describe('DynamoCaseStore.setExecutionArn', () => {
  it('records the execution ARN and the update time', async () => {
    const c = await openCase();

    await store.setExecutionArn(c.invoiceId, 'arn:aws:states:us-east-1:1:execution:sm:x', NOW);

    const read = await store.getCase(c.invoiceId);
    expect(read).toMatchObject({ executionArn: 'arn:aws:states:us-east-1:1:execution:sm:x', updatedAt: NOW });
  });

  it('throws CaseNotFoundError instead of creating a stub case', async () => {
    const invoiceId = uniqueInvoiceId();

    await expect(store.setExecutionArn(invoiceId, 'arn', NOW)).rejects.toBeInstanceOf(CaseNotFoundError);
    expect(await store.getCase(invoiceId)).toBeUndefined();
  });
});

describe('DynamoCaseStore.beginStage', () => {
  it('records the acting stage while the case is open and returns the updated case', async () => {
    const c = await openCase();

    const updated = await store.beginStage(c.invoiceId, 'day3', NOW);

    expect(updated).toEqual({ ...c, stage: 'day3', stageRuns: 1, updatedAt: NOW });
  });

  it('counts every run, so each invocation can use its own Stripe idempotency key', async () => {
    const c = await openCase();

    const runs = [];
    for (const stage of ['Retry1', 'Retry1', 'Notice2']) runs.push((await store.beginStage(c.invoiceId, stage, NOW)).stageRuns);

    expect(runs).toEqual([1, 2, 3]);
  });

  it('refuses once the case is recovered', async () => {
    const c = await openCase();
    await store.closeCase(c.invoiceId, 'recovered', { now: NOW, recoveredBy: 'invoice_paid' });

    const attempt = store.beginStage(c.invoiceId, 'day7', NOW);

    await expect(attempt).rejects.toBeInstanceOf(CaseClosedError);
    await expect(attempt).rejects.toMatchObject({ invoiceId: c.invoiceId, status: 'recovered' });
    expect((await store.getCase(c.invoiceId))?.stage).toBeUndefined();
  });

  it('throws CaseNotFoundError when there is no case, and creates nothing', async () => {
    const invoiceId = uniqueInvoiceId();

    await expect(store.beginStage(invoiceId, 'day3', NOW)).rejects.toBeInstanceOf(CaseNotFoundError);
    expect(await store.getCase(invoiceId)).toBeUndefined();
  });
});

describe('DynamoCaseStore.claimStageEmail', () => {
  it('claims a stage once and refuses a second claim of the same stage', async () => {
    const c = await openCase();

    const first = await store.claimStageEmail(c.invoiceId, 'day0', NOW);
    const second = await store.claimStageEmail(c.invoiceId, 'day0', NOW);

    expect([first, second]).toEqual([true, false]);
    expect((await store.getCase(c.invoiceId))?.noticesSent).toEqual(['day0']);
  });

  it('claims different stages independently, in order', async () => {
    const c = await openCase();

    await store.claimStageEmail(c.invoiceId, 'day0', NOW);
    await store.claimStageEmail(c.invoiceId, 'day3', NOW);

    expect((await store.getCase(c.invoiceId))?.noticesSent).toEqual(['day0', 'day3']);
  });

  it('lets exactly one of concurrent claims of a stage succeed', async () => {
    const c = await openCase();

    const results = await Promise.all(Array.from({ length: 10 }, () => store.claimStageEmail(c.invoiceId, 'day3', NOW)));

    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.getCase(c.invoiceId))?.noticesSent).toEqual(['day3']);
  });

  it('refuses to claim a notice once the case is recovered', async () => {
    const c = await openCase();
    await store.closeCase(c.invoiceId, 'recovered', { now: NOW, recoveredBy: 'workflow_retry' });

    await expect(store.claimStageEmail(c.invoiceId, 'day7', NOW)).rejects.toBeInstanceOf(CaseClosedError);
  });

  it('reports a closed case even when the stage was already claimed', async () => {
    const c = await openCase();
    await store.claimStageEmail(c.invoiceId, 'day0', NOW);
    await store.closeCase(c.invoiceId, 'terminated', { now: NOW });

    await expect(store.claimStageEmail(c.invoiceId, 'day0', NOW)).rejects.toMatchObject({
      name: 'CaseClosedError',
      status: 'terminated',
    });
  });

  it('throws CaseNotFoundError when there is no case', async () => {
    await expect(store.claimStageEmail(uniqueInvoiceId(), 'day0', NOW)).rejects.toBeInstanceOf(CaseNotFoundError);
  });

  it('claims on a case item written without a noticesSent list', async () => {
    const c = await openCase();
    await table.documentClient.send(
      new UpdateCommand({ TableName: TABLE_NAME, Key: keys.case(c.invoiceId), UpdateExpression: 'REMOVE noticesSent' }),
    );

    expect(await store.claimStageEmail(c.invoiceId, 'day0', NOW)).toBe(true);
    expect((await store.getCase(c.invoiceId))?.noticesSent).toEqual(['day0']);
  });
});

describe('DynamoCaseStore.releaseStageEmail', () => {
  it('gives a claim back so the stage can be claimed again', async () => {
    const c = await openCase();
    await store.claimStageEmail(c.invoiceId, 'day3', NOW);

    await store.releaseStageEmail(c.invoiceId, 'day3', NOW);

    expect((await store.getCase(c.invoiceId))?.noticesSent).toEqual([]);
    expect(await store.claimStageEmail(c.invoiceId, 'day3', NOW)).toBe(true);
  });

  it('removes only the released stage and keeps the others in order', async () => {
    const c = await openCase();
    for (const stage of ['day0', 'day3', 'day7']) await store.claimStageEmail(c.invoiceId, stage, NOW);

    await store.releaseStageEmail(c.invoiceId, 'day3', NOW);

    expect((await store.getCase(c.invoiceId))?.noticesSent).toEqual(['day0', 'day7']);
  });

  it('does nothing when the stage was never claimed', async () => {
    const c = await openCase();
    await store.claimStageEmail(c.invoiceId, 'day0', NOW);

    await store.releaseStageEmail(c.invoiceId, 'day3', NOW);

    expect((await store.getCase(c.invoiceId))?.noticesSent).toEqual(['day0']);
  });

  it('releases the right stages when releases race each other', async () => {
    const c = await openCase();
    for (const stage of ['day0', 'day3', 'day7', 'day14']) await store.claimStageEmail(c.invoiceId, stage, NOW);

    await Promise.all([store.releaseStageEmail(c.invoiceId, 'day0', NOW), store.releaseStageEmail(c.invoiceId, 'day7', NOW)]);

    expect((await store.getCase(c.invoiceId))?.noticesSent).toEqual(['day3', 'day14']);
  });

  it('throws CaseNotFoundError when there is no case', async () => {
    await expect(store.releaseStageEmail(uniqueInvoiceId(), 'day0', NOW)).rejects.toBeInstanceOf(CaseNotFoundError);
  });
});

describe('DynamoCaseStore.closeCase', () => {
  it('closes an open case as recovered and returns the closed case', async () => {
    const c = await openCase();

    const closed = await store.closeCase(c.invoiceId, 'recovered', { now: NOW, recoveredBy: 'invoice_paid' });

    expect(closed).toEqual({ ...c, status: 'recovered', recoveredBy: 'invoice_paid', closedAt: NOW, updatedAt: NOW });
    expect(await store.getCase(c.invoiceId)).toEqual(closed);
  });

  it('records why a case needs attention', async () => {
    const c = await openCase();

    const closed = await store.closeCase(c.invoiceId, 'needs_attention', {
      now: NOW,
      error: { name: 'StripeRequestError', message: 'No such invoice' },
    });

    expect(closed).toMatchObject({
      status: 'needs_attention',
      error: { name: 'StripeRequestError', message: 'No such invoice' },
    });
  });

  it('returns undefined when the case is already closed, leaving it unchanged', async () => {
    const c = await openCase();
    const first = await store.closeCase(c.invoiceId, 'recovered', { now: NOW, recoveredBy: 'invoice_paid' });

    const second = await store.closeCase(c.invoiceId, 'terminated', { now: '2026-02-01T00:00:00.000Z' });

    expect(second).toBeUndefined();
    expect(await store.getCase(c.invoiceId)).toEqual(first);
  });

  it('moves a flagged case only when its status is among the allowed ones', async () => {
    const c = await openCase();
    await store.closeCase(c.invoiceId, 'needs_attention', { now: NOW, error: { name: 'StripeUnavailableError', message: '503' } });

    const byDefault = await store.closeCase(c.invoiceId, 'recovered', { now: NOW, recoveredBy: 'invoice_paid' });
    const allowed = await store.closeCase(c.invoiceId, 'recovered', {
      now: NOW,
      recoveredBy: 'invoice_paid',
      from: ['open', 'needs_attention'],
    });

    expect(byDefault).toBeUndefined();
    expect(allowed).toMatchObject({ status: 'recovered', recoveredBy: 'invoice_paid' });
  });

  it('lets only one caller close a case', async () => {
    const c = await openCase();

    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.closeCase(c.invoiceId, i % 2 ? 'recovered' : 'terminated', {
          now: NOW,
          recoveredBy: i % 2 ? 'invoice_paid' : undefined,
        }),
      ),
    );

    const winners = results.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    expect(await store.getCase(c.invoiceId)).toEqual(winners[0]);
  });

  it('returns undefined for a missing case and creates nothing', async () => {
    const invoiceId = uniqueInvoiceId();

    expect(await store.closeCase(invoiceId, 'terminated', { now: NOW })).toBeUndefined();
    expect(await store.getCase(invoiceId)).toBeUndefined();
  });
});

describe('DynamoCaseStore.claimClosingEmail', () => {
  it('claims each kind of closing email exactly once', async () => {
    const c = await openCase();
    await store.closeCase(c.invoiceId, 'recovered', { now: NOW, recoveredBy: 'invoice_paid' });

    const confirmation = [
      await store.claimClosingEmail(c.invoiceId, 'confirmation', NOW),
      await store.claimClosingEmail(c.invoiceId, 'confirmation', NOW),
    ];
    const termination = await store.claimClosingEmail(c.invoiceId, 'termination', NOW);

    expect(confirmation).toEqual([true, false]);
    expect(termination).toBe(true);
  });

  it('lets exactly one of concurrent claims succeed', async () => {
    const c = await openCase();

    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.claimClosingEmail(c.invoiceId, 'termination', NOW)),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('can be claimed again after a release', async () => {
    const c = await openCase();
    await store.claimClosingEmail(c.invoiceId, 'confirmation', NOW);

    await store.releaseClosingEmail(c.invoiceId, 'confirmation');

    expect(await store.claimClosingEmail(c.invoiceId, 'confirmation', NOW)).toBe(true);
  });

  it('keeps the claim out of the case it returns', async () => {
    const c = await openCase();
    await store.claimClosingEmail(c.invoiceId, 'confirmation', NOW);

    expect(await store.getCase(c.invoiceId)).not.toHaveProperty('confirmationEmailClaimedAt');
    const raw = await table.documentClient.send(new GetCommand({ TableName: TABLE_NAME, Key: keys.case(c.invoiceId) }));
    expect(raw.Item?.confirmationEmailClaimedAt).toBe(NOW);
  });

  it('throws CaseNotFoundError when there is no case', async () => {
    const invoiceId = uniqueInvoiceId();

    await expect(store.claimClosingEmail(invoiceId, 'confirmation', NOW)).rejects.toBeInstanceOf(CaseNotFoundError);
    await expect(store.releaseClosingEmail(invoiceId, 'confirmation')).rejects.toBeInstanceOf(CaseNotFoundError);
  });
});

describe('DynamoCaseStore timeline', () => {
  it('lists a case’s entries in time order', async () => {
    const c = await openCase();
    await store.appendTimeline(c.invoiceId, { at: '2026-01-02T00:00:00.000Z', type: 'notice_sent', stage: 'day0' });
    await store.appendTimeline(c.invoiceId, { at: '2026-01-01T00:00:00.000Z', type: 'case_opened' });
    await store.appendTimeline(c.invoiceId, {
      at: '2026-01-03T00:00:00.000Z',
      type: 'retry_declined',
      detail: 'insufficient_funds',
    });

    const entries = await store.listTimeline(c.invoiceId);

    expect(entries).toEqual([
      { at: '2026-01-01T00:00:00.000Z', type: 'case_opened' },
      { at: '2026-01-02T00:00:00.000Z', type: 'notice_sent', stage: 'day0' },
      { at: '2026-01-03T00:00:00.000Z', type: 'retry_declined', detail: 'insufficient_funds' },
    ]);
  });

  it('keeps every entry written in the same millisecond, in the order written', async () => {
    const c = await openCase();
    const at = '2026-01-05T12:00:00.000Z';

    for (const type of ['recovered', 'execution_stopped', 'confirmation_sent'] as const) {
      await store.appendTimeline(c.invoiceId, { at, type });
    }

    expect((await store.listTimeline(c.invoiceId)).map((e) => e.type)).toEqual([
      'recovered',
      'execution_stopped',
      'confirmation_sent',
    ]);
  });

  it('keeps a once-only entry (one with an event key) once: a second writer gets false and writes nothing', async () => {
    const c = await openCase();
    const at = '2026-01-05T12:00:00.000Z';

    const writes = await Promise.all([1, 2, 3].map(() => store.appendTimeline(c.invoiceId, { at, type: 'recovered', eventKey: 'recovered' })));

    expect(writes.filter(Boolean)).toHaveLength(1);
    expect(await store.listTimeline(c.invoiceId)).toEqual([{ at, type: 'recovered', eventKey: 'recovered' }]);
  });

  it('keeps the written order of once-only and ordinary entries of the same millisecond', async () => {
    const c = await openCase();
    const at = '2026-01-05T12:00:00.000Z';

    await store.appendTimeline(c.invoiceId, { at, type: 'retry_paid' });
    await store.appendTimeline(c.invoiceId, { at, type: 'recovered', eventKey: 'recovered' });
    await store.appendTimeline(c.invoiceId, { at, type: 'access_changed', eventKey: 'access/end' });
    await store.appendTimeline(c.invoiceId, { at, type: 'confirmation_sent' });

    expect((await store.listTimeline(c.invoiceId)).map((e) => e.type)).toEqual(['retry_paid', 'recovered', 'access_changed', 'confirmation_sent']);
  });

  it('keeps entries appended concurrently', async () => {
    const c = await openCase();

    await Promise.all(
      Array.from({ length: 20 }, () => store.appendTimeline(c.invoiceId, { at: NOW, type: 'notice_sent' })),
    );

    expect(await store.listTimeline(c.invoiceId)).toHaveLength(20);
  });

  it('reads only its own case’s entries', async () => {
    const a = await openCase();
    const b = await openCase();
    await store.appendTimeline(a.invoiceId, { at: NOW, type: 'case_opened' });

    expect(await store.listTimeline(b.invoiceId)).toEqual([]);
  });
});

describe('DynamoCaseStore.listCases', () => {
  it('lists cases, not timeline entries or notices', async () => {
    const c = await openCase();
    await store.appendTimeline(c.invoiceId, { at: NOW, type: 'case_opened' });
    await store.putBanner(aBanner({ customerId: 'cus_list', invoiceId: c.invoiceId }));

    const cases = await store.listCases();

    expect(cases.find((x) => x.invoiceId === c.invoiceId)).toEqual(c);
    expect(cases.every((x) => typeof x.invoiceId === 'string' && 'status' in x && !('pk' in x))).toBe(true);
  });

  it('pages through more cases than one scan page holds', async () => {
    // dynalite pages at 1 MB like DynamoDB; ~60 cases of ~20 KB each need several pages.
    const padding = 'x'.repeat(20_000);
    const created = await Promise.all(Array.from({ length: 60 }, () => openCase({ customerName: padding })));

    const listed = new Set((await store.listCases()).map((x) => x.invoiceId));

    expect(created.every((c) => listed.has(c.invoiceId))).toBe(true);
  });
});

function aBanner(overrides: Partial<Banner> = {}): Banner {
  return {
    customerId: 'cus_notice',
    invoiceId: 'in_notice',
    stage: 'day0',
    severity: 'info',
    headline: 'Your payment failed',
    body: 'Please update your card.',
    action: { label: 'Update payment details', url: 'https://pay.example/u/token' },
    terminatesAt: NOW,
    createdAt: NOW,
    ...overrides,
  };
}

describe('DynamoCaseStore banners', () => {
  it('stores a banner per customer and reads it back', async () => {
    const banner = aBanner({ customerId: 'cus_put' });

    await store.putBanner(banner);

    expect(await store.getBanner('cus_put')).toEqual(banner);
  });

  it('replaces a customer’s banner with the newer one', async () => {
    await store.putBanner(aBanner({ customerId: 'cus_replace', stage: 'day0' }));

    await store.putBanner(aBanner({ customerId: 'cus_replace', stage: 'day3' }));

    expect((await store.getBanner('cus_replace'))?.stage).toBe('day3');
  });

  it('returns undefined when the customer has no banner', async () => {
    expect(await store.getBanner('cus_none')).toBeUndefined();
  });

  it('clears the banner of the case being closed', async () => {
    await store.putBanner(aBanner({ customerId: 'cus_clear', invoiceId: 'in_1' }));

    await store.clearBanner('cus_clear', 'in_1');

    expect(await store.getBanner('cus_clear')).toBeUndefined();
  });

  it('does not clear a newer case’s banner', async () => {
    await store.putBanner(aBanner({ customerId: 'cus_newer', invoiceId: 'in_new' }));

    await store.clearBanner('cus_newer', 'in_old');

    expect((await store.getBanner('cus_newer'))?.invoiceId).toBe('in_new');
  });

  it('does nothing when there is no banner to clear', async () => {
    await expect(store.clearBanner('cus_nobanner', 'in_1')).resolves.toBeUndefined();
  });
});

describe('DynamoCaseStore faults', () => {
  // dynalite never throttles or fails; these faults are injected at the client's send.
  function storeFailingWith(error: Error) {
    const client = { send: () => Promise.reject(error) } as unknown as DynamoDBDocumentClient;
    return new DynamoCaseStore(client, TABLE_NAME);
  }

  it.each([
    ['ProvisionedThroughputExceededException', 400],
    ['ThrottlingException', 400],
    ['RequestLimitExceeded', 400],
    ['InternalServerError', 500],
    ['ServiceUnavailable', 503],
  ])('maps %s to StoreUnavailableError', async (name, status) => {
    const failing = storeFailingWith(sdkError(name, status));

    await expect(failing.getCase('in_x')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failing.closeCase('in_x', 'terminated', { now: NOW })).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failing.claimStageEmail('in_x', 'day0', NOW)).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('maps a network failure to StoreUnavailableError', async () => {
    const failing = storeFailingWith(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));

    await expect(failing.listCases()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('maps an unreachable endpoint to StoreUnavailableError', async () => {
    const { createDynamoDocumentClient } = await import('#shared/adapters/aws-clients.ts');
    const client = createDynamoDocumentClient({ endpoint: 'http://127.0.0.1:9' });
    const unreachable = new DynamoCaseStore(client, TABLE_NAME);

    await expect(unreachable.getCase('in_x')).rejects.toBeInstanceOf(StoreUnavailableError);
    client.destroy();
  });

  it('passes other errors through unchanged', async () => {
    const validation = sdkError('ValidationException', 400, 'bad expression');

    await expect(storeFailingWith(validation).getCase('in_x')).rejects.toBe(validation);
  });
});
