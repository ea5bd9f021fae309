// Shared setup for the adapter tests: a fresh dynalite with the dunning table, and case fixtures.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoClient, createDynamoDocumentClient } from '#shared/adapters/aws-clients.ts';
import type { DunningCase } from '#shared/domain/case.ts';
import { ensureTable, startDynamoDb } from '#local/dynamodb.ts';

// Node 20 runs locally on purpose (Lambda runs 22); the SDK's warning about it is noise in tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const TABLE_NAME = 'dunning-test';

export interface LocalTable {
  endpoint: string;
  client: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
  close(): Promise<void>;
}

export async function startLocalTable(): Promise<LocalTable> {
  const dynamo = await startDynamoDb({ port: 0 });
  const client = createDynamoClient({ endpoint: dynamo.endpoint });
  const documentClient = createDynamoDocumentClient({ endpoint: dynamo.endpoint });
  await ensureTable(client, TABLE_NAME);
  return {
    endpoint: dynamo.endpoint,
    client,
    documentClient,
    close: async () => {
      documentClient.destroy();
      client.destroy();
      await dynamo.close();
    },
  };
}

export function uniqueInvoiceId(): string {
  return `in_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

export function aCase(overrides: Partial<DunningCase> = {}): DunningCase {
  const invoiceId = overrides.invoiceId ?? uniqueInvoiceId();
  return {
    invoiceId,
    customerId: 'cus_test',
    subscriptionId: 'sub_test',
    status: 'open',
    amountDue: { amount: 4900, currency: 'eur' },
    invoiceNumber: 'INV-0001',
    customerEmail: 'jane@example.com',
    livemode: false,
    failedAt: '2026-01-01T10:00:00.000Z',
    terminatesAt: '2026-01-22T10:00:00.000Z',
    executionName: `dunning-${invoiceId}`,
    noticesSent: [],
    createdAt: '2026-01-01T10:00:01.000Z',
    updatedAt: '2026-01-01T10:00:01.000Z',
    ...overrides,
  };
}

/** An error shaped like the AWS SDK's service exceptions, for faults the local services cannot make. */
export function sdkError(name: string, httpStatusCode: number, message = name): Error {
  return Object.assign(new Error(message), { name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });
}

export interface FakeSecretsManager {
  /** The secret values by ARN; change one to play a rotation. */
  readonly secrets: Record<string, string>;
  /** The SecretIds asked for, in order. */
  readonly requested: string[];
  close(): Promise<void>;
}

/**
 * A loopback stand-in for Secrets Manager's GetSecretValue (its JSON 1.1 protocol), set as the
 * SDK's service-specific endpoint with local credentials, so Powertools Parameters runs unchanged.
 * An unknown SecretId gets ResourceNotFoundException, as from AWS.
 */
export async function startFakeSecretsManager(secrets: Record<string, string>): Promise<FakeSecretsManager> {
  const requested: string[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const { SecretId } = JSON.parse(raw) as { SecretId: string };
      requested.push(SecretId);
      const value = secrets[SecretId];
      res.writeHead(value === undefined ? 400 : 200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(
          value === undefined
            ? { __type: 'ResourceNotFoundException', message: 'Secrets Manager can’t find the specified secret.' }
            : { ARN: SecretId, Name: SecretId.split(':').pop(), SecretString: value },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  return {
    secrets,
    requested,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
