// The Tracer as it runs in Lambda with active tracing: the clients the functions build are traced,
// so each DynamoDB call and each call to Stripe becomes an X-Ray subsegment of the invocation.
// Lambda's facade segment is played by a Segment the test sets, as Powertools' own tests do.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Segment, type Subsegment } from 'aws-xray-sdk-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_NAME, startLocalTable, type LocalTable } from './helpers.ts';

let table: LocalTable;
let stripeApi: Server;
let runtime: typeof import('#functions/_runtime/lambda-deps.ts');
let powertools: typeof import('#functions/_runtime/tracer.ts');
let stripeGateway: typeof import('#shared/adapters/stripe-gateway.ts');

beforeAll(async () => {
  table = await startLocalTable();
  stripeApi = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"balance","available":[],"pending":[],"livemode":false}'));
  await new Promise<void>((resolve) => stripeApi.listen(0, '127.0.0.1', resolve));
  // As Lambda sets them for a function with active tracing (CDK `tracing: ACTIVE`), read when the
  // Tracer is constructed; the endpoint is the SDK's own override, so the client is built as in AWS.
  Object.assign(process.env, {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    POWERTOOLS_TRACE_ENABLED: 'true',
    POWERTOOLS_SERVICE_NAME: 'send-notice',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
  });
  powertools = await import('#functions/_runtime/tracer.ts');
  runtime = await import('#functions/_runtime/lambda-deps.ts');
  stripeGateway = await import('#shared/adapters/stripe-gateway.ts');
});
afterAll(async () => {
  await table?.close();
  await new Promise((resolve) => stripeApi?.close(resolve));
});

/**
 * Runs `act` inside a fresh invocation segment, in the X-Ray SDK's context as the Lambda runtime
 * gives it, and returns the subsegments it recorded.
 */
async function subsegmentsOf(act: () => Promise<unknown>): Promise<Subsegment[]> {
  const segment = new Segment('send-notice');
  await powertools.tracer.provider.getNamespace().runPromise(async () => {
    powertools.tracer.setSegment(segment);
    await act();
  });
  return segment.subsegments ?? [];
}

describe('the Tracer in Lambda', () => {
  it('is on when Lambda runs the function with tracing enabled', () => {
    expect(powertools.tracer.isTracingEnabled()).toBe(true);
  });

  it('records each call of the functions\' document client as a DynamoDB subsegment', async () => {
    const client = runtime.tracedDocumentClient();

    const subsegments = await subsegmentsOf(() => client.send(new GetCommand({ TableName: TABLE_NAME, Key: { pk: 'CASE#in_1', sk: 'CASE' } })));

    expect(subsegments.map((s) => s.name)).toEqual(['DynamoDB']);
    expect(subsegments[0]).toMatchObject({ namespace: 'aws', aws: { operation: 'GetItem', table_name: TABLE_NAME } });
  });

  it('records each call to Stripe as an HTTP subsegment', async () => {
    const { port } = stripeApi.address() as AddressInfo;
    const stripe = stripeGateway.createStripeClient({ apiKey: 'sk_test_x', apiBase: `http://127.0.0.1:${port}` });

    const subsegments = await subsegmentsOf(() => stripe.balance.retrieve());

    expect(subsegments.map((s) => s.name)).toEqual(['127.0.0.1']);
    expect(subsegments[0]).toMatchObject({ namespace: 'remote', http: { request: { method: 'GET' }, response: { status: 200 } } });
  });
});
