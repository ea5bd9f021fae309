// The local SQS FIFO stand-in as the webhook reaches it (@aws-sdk/client-sqs SendMessage) and as
// Lambda's event source mapping drains it: a customer's events in order with one batch in flight per
// group, customers in parallel, one copy per deduplication id, and a message that keeps failing moved
// to the dead-letter queue after maxReceiveCount receives without holding up anything else.
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startLocalSqs, type LocalQueueSpec, type LocalSqs } from '#local/aws/sqs.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const REGION = 'us-east-1';
const dlq: LocalQueueSpec = { name: 'EventsDlq', arn: 'arn:aws:sqs:us-east-1:000000000000:EventsDlq', url: 'https://sqs.us-east-1.amazonaws.com/000000000000/EventsDlq', fifo: true, visibilityTimeoutSeconds: 30 };
const queue: LocalQueueSpec = {
  name: 'Events',
  arn: 'arn:aws:sqs:us-east-1:000000000000:Events',
  url: 'https://sqs.us-east-1.amazonaws.com/000000000000/Events',
  fifo: true,
  visibilityTimeoutSeconds: 180,
  redrive: { deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 },
};

/**
 * A consumer that records each message as it starts and ends, and fails or stalls the ones asked. As
 * a FIFO consumer must (and route-events does), it reports every later message of a failed one's
 * group as failed too, without starting it.
 */
function consumer(options: { slow?: Record<string, number>; failing?: Set<string> } = {}) {
  const log: string[] = [];
  const received: Record<string, number> = {};
  return {
    log,
    received,
    mapping: {
      batchSize: 10,
      reportBatchItemFailures: true,
      maxConcurrency: 4,
      invoke: async (event: SQSEvent): Promise<SQSBatchResponse> => {
        const failures: SQSBatchResponse['batchItemFailures'] = [];
        const failedGroups = new Set<string>();
        for (const record of event.Records) {
          const group = record.attributes.MessageGroupId!;
          if (failedGroups.has(group)) {
            failures.push({ itemIdentifier: record.messageId });
            continue;
          }
          log.push(`start ${record.body}`);
          received[record.body] = Number(record.attributes.ApproximateReceiveCount);
          await new Promise((resolve) => setTimeout(resolve, options.slow?.[record.body] ?? 0));
          log.push(`end ${record.body}`);
          if (options.failing?.has(record.body)) {
            failures.push({ itemIdentifier: record.messageId });
            failedGroups.add(group);
          }
        }
        return { batchItemFailures: failures };
      },
    },
  };
}

/** A consumer whose first invocation throws (a crashed function) and whose later ones succeed. */
function crashingOnce() {
  let calls = 0;
  return {
    calls: () => calls,
    mapping: {
      batchSize: 10,
      reportBatchItemFailures: true,
      invoke: async (): Promise<SQSBatchResponse> => {
        calls += 1;
        if (calls === 1) throw new Error('crashed');
        return { batchItemFailures: [] };
      },
    },
  };
}

describe('local SQS FIFO', () => {
  let sqs: LocalSqs;
  let client: SQSClient;
  let logged: string[];
  const send = (body: string, group: string, dedupe = body) =>
    client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body, MessageGroupId: group, MessageDeduplicationId: dedupe }));

  beforeEach(async () => {
    logged = [];
    sqs = await startLocalSqs({ host: '127.0.0.1', region: REGION, queues: [queue, dlq], minVisibilityMs: 100, timeScale: 0, log: (line) => logged.push(line) });
    client = new SQSClient({ endpoint: sqs.endpoint, region: REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1, useQueueUrlAsEndpoint: false });
  });
  afterEach(async () => {
    client.destroy();
    await sqs.close();
  });

  it("answers the SDK's SendMessage with the body's MD5 and a sequence number, and refuses a FIFO send without a group", async () => {
    const answer = await send('{"id":"evt_1"}', 'cus_1');

    expect(answer.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.SequenceNumber).toMatch(/^\d{20}$/);
    await expect(client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'x', MessageDeduplicationId: 'x' }))).rejects.toThrow(/MessageGroupId/);
    await expect(client.send(new SendMessageCommand({ QueueUrl: `${queue.url}-gone`, MessageBody: 'x', MessageGroupId: 'g', MessageDeduplicationId: 'x' }))).rejects.toThrow(
      /does not exist/,
    );
  });

  it("hands one customer's events over in the order sent, the second only after the first is done, even when the first is slow", async () => {
    const c = consumer({ slow: { a1: 300 } });
    sqs.attach(queue.arn, c.mapping);
    await send('a1', 'cus_a');
    await new Promise((resolve) => setTimeout(resolve, 20));

    await send('a2', 'cus_a');
    await sqs.drained();

    expect(c.log).toEqual(['start a1', 'end a1', 'start a2', 'end a2']);
  });

  it('routes two customers in parallel: one slow customer does not hold up the other', async () => {
    const c = consumer({ slow: { a1: 400 } });
    sqs.attach(queue.arn, c.mapping);
    await send('warm', 'cus_w');
    await sqs.drained();
    await send('a1', 'cus_a');
    await new Promise((resolve) => setTimeout(resolve, 20));

    await send('b1', 'cus_b');
    await sqs.drained();

    expect(c.log.indexOf('end b1')).toBeLessThan(c.log.indexOf('end a1'));
  });

  it('hands nothing over while its mapping is disabled, and everything, receive counts untouched, once enabled again', async () => {
    const c = consumer();
    sqs.attach(queue.arn, c.mapping);
    sqs.setEnabled(queue.arn, false);
    await send('a1', 'cus_a');
    await send('b1', 'cus_b');
    await new Promise((resolve) => setTimeout(resolve, 150));

    expect(c.log).toEqual([]);
    expect(sqs.snapshot(queue.arn)).toMatchObject({ waiting: 2, inFlight: 0 });
    sqs.setEnabled(queue.arn, true);
    await sqs.drained();

    expect(c.log).toEqual(['start a1', 'end a1', 'start b1', 'end b1']);
    expect(c.received).toEqual({ a1: 1, b1: 1 });
  });

  it('keeps one copy of a deduplication id sent again within five minutes, and answers the first send', async () => {
    const c = consumer();
    const first = await send('evt_1 body', 'cus_a', 'evt_1');

    const again = await send('evt_1 body', 'cus_a', 'evt_1');
    sqs.attach(queue.arn, c.mapping);
    await sqs.drained();

    expect(again.MessageId).toBe(first.MessageId);
    expect(c.log).toEqual(['start evt_1 body', 'end evt_1 body']);
  });

  it('moves a message that fails every receive to the dead-letter queue after maxReceiveCount, then hands over the rest of its group and other groups', async () => {
    const c = consumer({ failing: new Set(['poison']) });
    sqs.attach(queue.arn, c.mapping);

    await send('poison', 'cus_a');
    await send('a2', 'cus_a');
    await send('b1', 'cus_b');
    await sqs.drained();

    expect(c.received.poison).toBe(3);
    expect(c.log.filter((l) => l === 'start poison')).toHaveLength(3);
    // Nothing of its group overtook it while it was being retried; the other group went at once.
    expect(c.log.indexOf('start a2')).toBeGreaterThan(c.log.lastIndexOf('end poison'));
    expect(c.log.indexOf('end b1')).toBeLessThan(c.log.lastIndexOf('start poison'));
    expect(sqs.snapshot(dlq.arn).bodies).toEqual(['poison']);
    expect(sqs.snapshot(queue.arn)).toEqual({ waiting: 0, inFlight: 0, bodies: [] });
    expect(logged).toEqual([expect.stringMatching(/failed 3 receives; moved to EventsDlq/)]);
  });

  // A message turning visible between choosing a batch and setting the wake-up (a busy machine, or a
  // timer firing a millisecond before Date.now() reaches the moment) once got no wake-up at all.
  it('hands a failed message over again however much time passes between choosing a batch and setting the wake-up', async () => {
    const crashing = crashingOnce();
    sqs.attach(queue.arn, crashing.mapping);
    // Each reading of the clock is 60 ms later than the one before: the 100 ms visibility passes
    // between two lines of the same turn.
    const realNow = Date.now.bind(Date);
    let skew = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + (skew += 60));
    try {
      await send('m1', 'cus_a');
      const outcome = await Promise.race([sqs.drained().then(() => 'drained'), new Promise((resolve) => setTimeout(() => resolve('stuck'), 3_000))]);

      expect(outcome).toBe('drained');
      expect(crashing.calls()).toBe(2);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('hands a whole batch over again when the function throws, as Lambda does', async () => {
    const crashing = crashingOnce();
    sqs.attach(queue.arn, crashing.mapping);

    await send('m1', 'cus_a');
    await sqs.drained();

    expect(crashing.calls()).toBe(2);
    expect(sqs.snapshot(dlq.arn).bodies).toEqual([]);
  });
});
