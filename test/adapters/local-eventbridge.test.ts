// The local EventBridge as the product's publisher sees it through @aws-sdk/client-eventbridge: what
// PutEvents accepts and refuses, the faults a test injects, and forwarding to a developer's URL.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalEventBridge, type LocalEventBridge } from '#local/aws/eventbridge.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const BUS = 'dunning-events';

const entry = (detailType: string, customerId: string, extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({
  Source: 'stripe-dunning',
  DetailType: detailType,
  Detail: JSON.stringify({ eventId: `ev_${detailType}_${customerId}`, customerId, invoiceId: 'in_1' }),
  EventBusName: BUS,
  ...extra,
});

function clientFor(bridge: LocalEventBridge): EventBridgeClient {
  return new EventBridgeClient({
    endpoint: bridge.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // The SDK retries throttling and 500s by itself; one attempt shows each fault as it comes.
    maxAttempts: 1,
  });
}

describe('local EventBridge', () => {
  let bridge: LocalEventBridge;
  let client: EventBridgeClient;
  let logged: string[];

  beforeEach(async () => {
    logged = [];
    bridge = await startLocalEventBridge({ host: '127.0.0.1', buses: [BUS], region: REGION, account: ACCOUNT, log: (line) => logged.push(line) });
    client = clientFor(bridge);
  });

  afterEach(async () => {
    client.destroy();
    await bridge.close();
  });

  it('keeps each accepted event and serves them newest last, by customer or detail-type', async () => {
    const time = new Date('2026-12-01T10:00:00.000Z');
    const answer = await client.send(
      new PutEventsCommand({
        Entries: [entry('Case Opened', 'cus_a', { Time: time }), entry('Notice Sent', 'cus_b', { EventBusName: bridge.busArn(BUS) })],
      }),
    );
    await client.send(new PutEventsCommand({ Entries: [entry('Notice Sent', 'cus_a')] }));

    expect(answer.FailedEntryCount).toBe(0);
    expect(answer.Entries).toHaveLength(2);
    expect(answer.Entries!.every((e) => typeof e.EventId === 'string' && e.EventId.length > 0)).toBe(true);
    expect(bridge.events().map((e) => [e.detailType, e.detail.customerId, e.bus])).toEqual([
      ['Case Opened', 'cus_a', BUS],
      ['Notice Sent', 'cus_b', BUS],
      ['Notice Sent', 'cus_a', BUS],
    ]);
    expect(bridge.events()[0]).toMatchObject({ source: 'stripe-dunning', time: time.toISOString(), id: answer.Entries![0]!.EventId });
    expect(bridge.events({ customer: 'cus_a' }).map((e) => e.detailType)).toEqual(['Case Opened', 'Notice Sent']);
    expect(bridge.events({ detailType: 'Notice Sent' }).map((e) => e.detail.customerId)).toEqual(['cus_b', 'cus_a']);
    expect(bridge.events({ customer: 'cus_a', detailType: 'Notice Sent' })).toHaveLength(1);
  });

  it('refuses a call of more than 10 entries whole, with a ValidationException', async () => {
    const entries = Array.from({ length: 11 }, (_, i) => entry('Notice Sent', `cus_${i}`));

    const refused = await client.send(new PutEventsCommand({ Entries: entries })).catch((error: Error) => error);

    expect(refused).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect(bridge.events()).toEqual([]);
  });

  it('refuses a call over 256 KB whole', async () => {
    const big = JSON.stringify({ customerId: 'cus_a', padding: 'x'.repeat(30 * 1024) });
    const entries = Array.from({ length: 9 }, () => entry('Notice Sent', 'cus_a', { Detail: big }));

    const refused = await client.send(new PutEventsCommand({ Entries: entries })).catch((error: Error) => error);

    expect(refused).toMatchObject({ name: 'ValidationException' });
    expect(bridge.events()).toEqual([]);
  });

  it('fails only the entry whose Detail is not a JSON object, or that lacks Source or DetailType', async () => {
    const answer = await client.send(
      new PutEventsCommand({
        Entries: [
          entry('Case Opened', 'cus_a'),
          entry('Notice Sent', 'cus_a', { Detail: 'not json' }),
          entry('Notice Sent', 'cus_a', { Detail: '[1,2]' }),
          entry('Notice Sent', 'cus_a', { Source: undefined }),
          entry('Notice Sent', 'cus_a', { DetailType: undefined }),
        ],
      }),
    );

    expect(answer.FailedEntryCount).toBe(4);
    expect(answer.Entries!.map((e) => e.ErrorCode ?? 'ok')).toEqual(['ok', 'MalformedDetail', 'MalformedDetail', 'InvalidArgument', 'InvalidArgument']);
    expect(bridge.events().map((e) => e.detailType)).toEqual(['Case Opened']);
  });

  it('answers an event for a bus that does not exist with an EventId and drops it, as AWS does, and says so', async () => {
    const answer = await client.send(new PutEventsCommand({ Entries: [entry('Case Opened', 'cus_a', { EventBusName: 'no-such-bus' })] }));

    expect(answer.FailedEntryCount).toBe(0);
    expect(answer.Entries![0]!.EventId).toBeTruthy();
    expect(bridge.events()).toEqual([]);
    expect(logged).toEqual([expect.stringContaining('no event bus "no-such-bus"')]);
  });

  it('takes an entry without EventBusName to the default bus', async () => {
    await client.send(new PutEventsCommand({ Entries: [entry('Case Opened', 'cus_a', { EventBusName: undefined })] }));

    expect(bridge.events().map((e) => e.bus)).toEqual(['default']);
  });

  it('fails the next calls as asked: throttled, an internal error, or every entry failed; then accepts again', async () => {
    bridge.failNext(1, 'throttle');
    bridge.failNext(1, 'internal');
    bridge.failNext(1, 'entry');
    const send = () => client.send(new PutEventsCommand({ Entries: [entry('Case Opened', 'cus_a'), entry('Notice Sent', 'cus_a')] }));

    const throttled = await send().catch((error: Error) => error);
    const internal = await send().catch((error: Error) => error);
    const entriesFailed = await send();
    expect(bridge.events()).toEqual([]);
    const accepted = await send();

    expect(throttled).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    expect(internal).toMatchObject({ name: 'InternalException', $metadata: { httpStatusCode: 500 } });
    expect(entriesFailed.FailedEntryCount).toBe(2);
    expect(entriesFailed.Entries!.map((e) => e.ErrorCode)).toEqual(['InternalFailure', 'InternalFailure']);
    expect(accepted.FailedEntryCount).toBe(0);
    expect(bridge.events()).toHaveLength(2);
  });

  it('lets the SDK retry a throttled call to success by itself', async () => {
    const retrying = new EventBridgeClient({ endpoint: bridge.endpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    bridge.failNext(1, 'throttle');

    const answer = await retrying.send(new PutEventsCommand({ Entries: [entry('Case Opened', 'cus_a')] }));
    retrying.destroy();

    expect(answer.$metadata.attempts).toBe(2);
    expect(bridge.events()).toHaveLength(1);
  });
});

describe('local EventBridge forwarding', () => {
  let receiver: Server;
  let url: string;
  let received: Array<{ body: unknown; contentType: string | undefined }>;
  /** How many of the next deliveries the receiver answers 503. */
  let failing: number;
  let bridge: LocalEventBridge | undefined;

  beforeEach(async () => {
    received = [];
    failing = 0;
    receiver = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (failing > 0) {
          failing--;
          res.writeHead(503).end();
          return;
        }
        received.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')), contentType: req.headers['content-type'] });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  });

  afterEach(async () => {
    await bridge?.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('POSTs each accepted event as JSON, in order', async () => {
    bridge = await startLocalEventBridge({ host: '127.0.0.1', buses: [BUS], region: REGION, account: ACCOUNT, forwardUrl: url, log: () => undefined });
    const client = clientFor(bridge);

    await client.send(new PutEventsCommand({ Entries: [entry('Case Opened', 'cus_a'), entry('Notice Sent', 'cus_a', { Detail: 'oops' }), entry('Notice Sent', 'cus_a')] }));
    client.destroy();
    await expect.poll(() => received.length).toBe(2);

    expect(received.map((r) => r.contentType)).toEqual(['application/json', 'application/json']);
    expect(received.map((r) => r.body)).toEqual(bridge.events().map(({ source, detailType, detail, time }) => ({ source, detailType, detail, time })));
  });

  it('retries a receiver that fails, keeping the order, once it recovers', async () => {
    bridge = await startLocalEventBridge({ host: '127.0.0.1', buses: [BUS], region: REGION, account: ACCOUNT, forwardUrl: url, log: () => undefined });
    const client = clientFor(bridge);
    failing = 2;

    await client.send(new PutEventsCommand({ Entries: [entry('Case Opened', 'cus_a'), entry('Notice Sent', 'cus_a')] }));
    client.destroy();
    await expect.poll(() => received.length, { timeout: 5_000 }).toBe(2);

    expect(received.map((r) => (r.body as { detailType: string }).detailType)).toEqual(['Case Opened', 'Notice Sent']);
  });

  it('drops an event whose receiver never answers 2xx, with one log line, and goes on to the next', async () => {
    const logged: string[] = [];
    bridge = await startLocalEventBridge({ host: '127.0.0.1', buses: [BUS], region: REGION, account: ACCOUNT, forwardUrl: url, log: (line) => logged.push(line) });
    const client = clientFor(bridge);
    failing = 5;

    const answer = await client.send(new PutEventsCommand({ Entries: [entry('Case Opened', 'cus_a'), entry('Notice Sent', 'cus_a')] }));
    client.destroy();
    expect(answer.FailedEntryCount).toBe(0);
    await expect.poll(() => received.length, { timeout: 8_000 }).toBe(1);

    expect((received[0]!.body as { detailType: string }).detailType).toBe('Notice Sent');
    expect(logged).toEqual([expect.stringMatching(/could not forward Case Opened .* after 5 attempts \(HTTP 503\); dropped/)]);
  }, 15_000);
});
