import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient, createDynamoDocumentClient, createSesClient } from '#shared/adapters/aws-clients.ts';
import { DynamoCaseStore } from '#shared/adapters/dynamodb/case-store.ts';
import { SesMailer } from '#shared/adapters/ses-mailer.ts';
import { ensureTable, startDynamoDb } from '#local/dynamodb.ts';
import { clearSesInbox, readSesInbox, startSesLocal } from '#local/ses.ts';
import { aCase, TABLE_NAME } from './helpers.ts';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'dunning-dynalite-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('startDynamoDb', () => {
  it('creates the table with the deployed key layout, and ensureTable is repeatable', async () => {
    const dynamo = await startDynamoDb({ port: 0 });
    const client = createDynamoClient({ endpoint: dynamo.endpoint });

    await ensureTable(client, TABLE_NAME);
    await ensureTable(client, TABLE_NAME);

    const { Table } = await client.send(new DescribeTableCommand({ TableName: TABLE_NAME }));
    expect(Table).toMatchObject({
      TableStatus: 'ACTIVE',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
    });
    client.destroy();
    await dynamo.close();
  });

  it('keeps cases across restarts when given a data directory', async () => {
    const c = aCase();
    const first = await startDynamoDb({ port: 0, dataDir });
    const firstClient = createDynamoDocumentClient({ endpoint: first.endpoint });
    await ensureTable(firstClient, TABLE_NAME);
    await new DynamoCaseStore(firstClient, TABLE_NAME).createCase(c);
    firstClient.destroy();
    await first.close();

    const second = await startDynamoDb({ port: 0, dataDir });
    const secondClient = createDynamoDocumentClient({ endpoint: second.endpoint });
    await ensureTable(secondClient, TABLE_NAME);
    const read = await new DynamoCaseStore(secondClient, TABLE_NAME).getCase(c.invoiceId);
    secondClient.destroy();
    await second.close();

    expect(read).toEqual(c);
  });

  it('fails to start on a port that is taken', async () => {
    const dynamo = await startDynamoDb({ port: 0 });
    const port = Number(new URL(dynamo.endpoint).port);

    await expect(startDynamoDb({ port })).rejects.toThrow(/is in use: set DUNNING_DYNAMODB_PORT to a free port/);
    await dynamo.close();
  });
});

describe('startSesLocal', () => {
  it('serves the web inbox and an inbox that can be read and cleared', async () => {
    const ses = await startSesLocal({ port: 0 });
    const client = createSesClient({ endpoint: ses.endpoint });
    await clearSesInbox(ses.endpoint);
    await new SesMailer(client, { sender: 'billing@acme.example' }).send({
      to: 'jane@example.com',
      subject: 'hello',
      text: 'text',
      html: '<p>html</p>',
      tags: {},
    });

    const page = await fetch(ses.endpoint);
    const before = await readSesInbox(ses.endpoint);
    await clearSesInbox(ses.endpoint);
    const after = await readSesInbox(ses.endpoint);

    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    expect(before.map((e) => e.subject)).toEqual(['hello']);
    expect(after).toEqual([]);
    client.destroy();
    await ses.close();
  });

  it('fails to start on a port that is taken', async () => {
    const ses = await startSesLocal({ port: 0 });
    const port = Number(new URL(ses.endpoint).port);

    await expect(startSesLocal({ port })).rejects.toThrow(/is in use: set DUNNING_SES_PORT to a free port/);
    await ses.close();
  });
});
