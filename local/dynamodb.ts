// DynamoDB on loopback for the local runtime and tests: dynalite in-process, in memory or on disk,
// and the dunning table created with the same layout CDK deploys (shared/adapters/table.ts).
import { listen, serviceOf, type LocalService } from './http-service.ts';
import { createRequire } from 'node:module';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CASES_BY_CUSTOMER, OPEN_CASES, TABLE_KEYS, UNPUBLISHED_EVENTS } from '../shared/adapters/table.ts';

interface DynaliteOptions {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  /** A LevelDB directory; in memory when omitted. */
  path?: string;
}
// dynalite ships no types; this is the part of its API used here.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: DynaliteOptions) => Server;


/**
 * An item dynalite stored with PutItem: its string attributes, and the access key that signed the
 * request (a function's role session, or the operator's own key), which says who wrote it.
 */
export interface StoredItem {
  accessKeyId?: string;
  tableName: string;
  /** The item's string (`S`) attributes; others are left out. */
  item: Record<string, string>;
}

/** Starts dynalite; port 0 picks a free port (read it from `endpoint`). */
export async function startDynamoDb({
  port,
  host = '127.0.0.1',
  dataDir,
  onPut,
}: {
  port: number;
  host?: string;
  dataDir?: string;
  /** Told of every PutItem that succeeded, as DynamoDB Streams would tell of a new image. */
  onPut?: (stored: StoredItem) => void;
}): Promise<LocalService> {
  // Table state changes are instant, so ensureTable never waits on a simulated CREATING phase.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: dataDir });
  if (onPut) server.on('request', (req: IncomingMessage, res: ServerResponse) => observePut(req, res, onPut));
  await listen(server, port, host, 'DUNNING_DYNAMODB_PORT');
  // dynalite's close waits for the HTTP server, then closes LevelDB.
  return serviceOf(server);
}

/**
 * Reads a PutItem's body beside dynalite (which reads it in the same tick, so both see every chunk)
 * and reports the item once dynalite has answered 200.
 */
function observePut(req: IncomingMessage, res: ServerResponse, onPut: (stored: StoredItem) => void): void {
  if (!String(req.headers['x-amz-target'] ?? '').endsWith('.PutItem')) return;
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('finish', () => {
    if (res.statusCode !== 200) return;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { TableName?: string; Item?: Record<string, { S?: string }> };
      const item: Record<string, string> = {};
      for (const [name, value] of Object.entries(body.Item ?? {})) if (typeof value?.S === 'string') item[name] = value.S;
      const accessKeyId = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
      onPut({ accessKeyId, tableName: body.TableName ?? '', item });
    } catch {
      // Not JSON: dynalite answered it with an error already.
    }
  });
}

/** Creates the dunning table (PAY_PER_REQUEST) unless it exists, and waits until it is ACTIVE. */
export async function ensureTable(
  anyClient: DynamoDBClient | DynamoDBDocumentClient,
  tableName: string,
): Promise<void> {
  // A DocumentClient passes low-level commands through unchanged.
  const client = anyClient as DynamoDBClient;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
          { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
          { AttributeName: CASES_BY_CUSTOMER.partitionKey, AttributeType: 'S' },
          { AttributeName: CASES_BY_CUSTOMER.sortKey, AttributeType: 'S' },
          { AttributeName: OPEN_CASES.partitionKey, AttributeType: 'S' },
          { AttributeName: UNPUBLISHED_EVENTS.partitionKey, AttributeType: 'S' },
          { AttributeName: UNPUBLISHED_EVENTS.sortKey, AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: CASES_BY_CUSTOMER.indexName,
            KeySchema: [
              { AttributeName: CASES_BY_CUSTOMER.partitionKey, KeyType: 'HASH' },
              { AttributeName: CASES_BY_CUSTOMER.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: OPEN_CASES.indexName,
            KeySchema: [
              { AttributeName: OPEN_CASES.partitionKey, KeyType: 'HASH' },
              { AttributeName: OPEN_CASES.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          UNPUBLISHED_EVENTS_INDEX,
        ],
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await waitActive(client, tableName);
  // A table kept in DUNNING_DATA_DIR from before the outbox existed gets its index, as a deployed
  // table does when CloudFormation adds it.
  const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (!described.Table?.GlobalSecondaryIndexes?.some((index) => index.IndexName === UNPUBLISHED_EVENTS.indexName)) {
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: UNPUBLISHED_EVENTS.partitionKey, AttributeType: 'S' },
          { AttributeName: UNPUBLISHED_EVENTS.sortKey, AttributeType: 'S' },
        ],
        GlobalSecondaryIndexUpdates: [{ Create: UNPUBLISHED_EVENTS_INDEX }],
      }),
    );
    await waitActive(client, tableName);
  }
}

const UNPUBLISHED_EVENTS_INDEX = {
  IndexName: UNPUBLISHED_EVENTS.indexName,
  KeySchema: [
    { AttributeName: UNPUBLISHED_EVENTS.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: UNPUBLISHED_EVENTS.sortKey, KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'ALL' as const },
};

async function waitActive(client: DynamoDBClient, tableName: string): Promise<void> {
  // dynalite has no UpdateTimeToLive; it never expires items, and readers treat expired ones as absent.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (out.Table?.TableStatus === 'ACTIVE') return;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become ACTIVE within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
