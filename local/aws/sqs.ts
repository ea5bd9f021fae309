// Amazon SQS on loopback (its AWS JSON 1.0 protocol, `AmazonSQS.SendMessage` only) and Lambda's event
// source mapping on it: the queues the template creates, FIFO ones as SQS keeps them. A message group
// is handed over in order with at most one batch of it in flight, a MessageDeduplicationId seen in
// the last five minutes is answered and dropped, a message reported failed comes back after its
// visibility timeout, and after maxReceiveCount receives it moves to the redrive target. Delivery
// starts the moment a message is sent: Lambda's pollers long-poll, so a message is picked up at
// once in AWS too, and `invoice.paid` closes its case within a second here as there.
//
// Where it differs from SQS (docs/LOCAL-RUNTIME.md): the visibility timeout is compressed like the
// policy's days (never under a second); a message moves to the dead-letter queue right after its
// last failed receive, not at the receive after; standard queues keep FIFO order too; deduplication
// is per queue whatever its scope (the webhook always puts one event id in the same group).
import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { startAwsJsonService, type LocalService } from '../http-service.ts';

/** A queue as the template declares it. */
export interface LocalQueueSpec {
  /** Its name, the last segment of its URL (the logical id locally). */
  name: string;
  arn: string;
  url: string;
  fifo: boolean;
  visibilityTimeoutSeconds: number;
  /** Its RedrivePolicy: where a message goes after `maxReceiveCount` receives. */
  redrive?: { deadLetterTargetArn: string; maxReceiveCount: number };
}

/** An event source mapping from a queue to a function, as Lambda runs it. */
export interface LocalQueueConsumer {
  batchSize: number;
  /** Whether the function answers `batchItemFailures` (FunctionResponseTypes ReportBatchItemFailures). */
  reportBatchItemFailures: boolean;
  /** Invokes the function synchronously with the batch and answers what it returned (throws on a function error). */
  invoke(event: SQSEvent): Promise<unknown>;
  /**
   * Batches in flight at once, once the function has answered one. Lambda scales a FIFO mapping up to
   * one batch per active group; here a second batch would start a second, cold worker, seconds of a
   * shared CPU during which its events wait, so by default one batch at a time, its groups routed at
   * once (route-events does). @default 1
   */
  maxConcurrency?: number;
  /** Lambda's poller receives and deletes with the function's role: IAM decides, per action. */
  authorize?(action: 'sqs:ReceiveMessage' | 'sqs:DeleteMessage', queueArn: string): Promise<boolean>;
}

export interface LocalSqsOptions {
  host: string;
  region: string;
  queues: readonly LocalQueueSpec[];
  /** A visibility timeout of `s` seconds lasts `s * 1000 * timeScale` ms here, never under `minVisibilityMs`. @default 1 */
  timeScale?: number;
  /** @default 1000 */
  minVisibilityMs?: number;
  /** A message landed in a dead-letter queue (for its metric). */
  onDeadLetter?(queue: LocalQueueSpec, message: { messageId: string; body: string; group?: string }): void;
  log?: (line: string) => void;
}

export interface QueueSnapshot {
  /** Waiting to be handed over (visible or not yet). */
  waiting: number;
  inFlight: number;
  /** The bodies held, oldest first. */
  bodies: string[];
}

export interface LocalSqs extends LocalService {
  /** Attaches the event source mapping of `queueArn`; delivery starts at once. */
  attach(queueArn: string, consumer: LocalQueueConsumer): void;
  /** What a queue holds now. */
  snapshot(queueArn: string): QueueSnapshot;
  /** Resolves once no queue with a consumer holds a message (dead-letter queues have none). */
  drained(): Promise<void>;
  /** Forgets every deduplication id, as five minutes passing would (for tests that move time on). */
  forgetDeduplication(): void;
  /**
   * Stops or resumes handing a queue's messages to its consumer, as UpdateEventSourceMapping's
   * `Enabled` does: a disabled mapping receives nothing, and the messages wait in the queue, their
   * receive counts untouched. Batches already handed over finish.
   */
  setEnabled(queueArn: string, enabled: boolean): void;
}

/** SQS keeps a MessageDeduplicationId for five minutes. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60_000;
const MAX_BODY_BYTES = 256 * 1024;

interface Message {
  messageId: string;
  body: string;
  group?: string;
  dedupeId?: string;
  sequenceNumber: string;
  sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  visibleAt: number;
  inFlight: boolean;
}

interface Queue {
  spec: LocalQueueSpec;
  messages: Message[];
  dedupe: Map<string, { expiresAt: number; messageId: string; sequenceNumber: string }>;
  consumer?: LocalQueueConsumer;
  timer?: NodeJS.Timeout;
  batchesInFlight: number;
  /** The consumer has answered a batch: its first worker is up. */
  warm: boolean;
  /** The event source mapping's Enabled (true unless setEnabled turned it off). */
  disabled?: boolean;
}

export async function startLocalSqs(options: LocalSqsOptions): Promise<LocalSqs> {
  const log = options.log ?? ((line: string) => console.error(line));
  const timeScale = options.timeScale ?? 1;
  const minVisibilityMs = options.minVisibilityMs ?? 1000;
  const byArn = new Map<string, Queue>();
  const byName = new Map<string, Queue>();
  for (const spec of options.queues) {
    const queue: Queue = { spec, messages: [], dedupe: new Map(), batchesInFlight: 0, warm: false };
    byArn.set(spec.arn, queue);
    byName.set(spec.name, queue);
  }
  let sequence = 0;
  let closed = false;
  const running = new Set<Promise<void>>();
  let idle: Array<() => void> = [];

  const visibilityMs = (queue: Queue) => Math.max(minVisibilityMs, queue.spec.visibilityTimeoutSeconds * 1000 * timeScale);

  const enqueue = (queue: Queue, body: string, group?: string, dedupeId?: string): Message => {
    const now = Date.now();
    sequence += 1;
    const message: Message = {
      messageId: randomUUID(),
      body,
      group,
      dedupeId,
      sequenceNumber: String(sequence).padStart(20, '0'),
      sentAt: now,
      receiveCount: 0,
      visibleAt: now,
      inFlight: false,
    };
    queue.messages.push(message);
    pump(queue);
    return message;
  };

  const settle = () => {
    // A message waiting out its visibility timeout counts: it is handed over again within seconds.
    const busy = [...byArn.values()].some((q) => q.consumer && q.messages.length > 0);
    if (busy || running.size > 0) return;
    const waiting = idle;
    idle = [];
    for (const resolve of waiting) resolve();
  };

  /** The next batch: in queue order, only groups with nothing in flight, a group's messages in order. */
  const nextBatch = (queue: Queue, size: number, now: number): Message[] => {
    const blocked = new Set<string>();
    const batch: Message[] = [];
    for (const message of queue.messages) {
      const group = message.group ?? message.messageId;
      if (message.inFlight || message.visibleAt > now) {
        // Nothing of a group passes a message of it that is in flight or waiting out its visibility.
        if (queue.spec.fifo) blocked.add(group);
        continue;
      }
      if (blocked.has(group)) continue;
      batch.push(message);
      if (batch.length === size) break;
    }
    return batch;
  };

  const pump = (queue: Queue) => {
    if (closed || !queue.consumer || queue.disabled) return;
    const consumer = queue.consumer;
    const limit = queue.warm ? (consumer.maxConcurrency ?? 1) : 1;
    // One instant for choosing the batch and for the wake-up after it: a message that was still
    // invisible when the batch was chosen must get its timer, even if it turns visible meanwhile
    // (a timer can also fire a millisecond before Date.now() reaches its message's moment).
    const now = Date.now();
    while (queue.batchesInFlight < limit) {
      const batch = nextBatch(queue, consumer.batchSize, now);
      if (batch.length === 0) break;
      queue.batchesInFlight += 1;
      for (const message of batch) {
        message.inFlight = true;
        message.receiveCount += 1;
        message.firstReceivedAt ??= now;
      }
      const delivery = deliver(queue, consumer, batch).finally(() => {
        queue.batchesInFlight -= 1;
        queue.warm = true;
        running.delete(delivery);
        pump(queue);
        settle();
      });
      running.add(delivery);
    }
    schedule(queue, now);
  };

  /** Wakes the queue when the first message waiting out its visibility becomes visible again. */
  const schedule = (queue: Queue, now: number) => {
    if (queue.timer) clearTimeout(queue.timer);
    queue.timer = undefined;
    const next = Math.min(...queue.messages.filter((m) => !m.inFlight && m.visibleAt > now).map((m) => m.visibleAt));
    if (!Number.isFinite(next) || closed) return;
    queue.timer = setTimeout(() => pump(queue), Math.max(0, next - Date.now()));
    queue.timer.unref();
  };

  const deliver = async (queue: Queue, consumer: LocalQueueConsumer, batch: Message[]): Promise<void> => {
    if (consumer.authorize && !(await consumer.authorize('sqs:ReceiveMessage', queue.spec.arn))) {
      // The poller cannot receive: the messages stay, as they would in AWS, until the role is fixed.
      for (const message of batch) returnToQueue(queue, message, false);
      return;
    }
    let failed: Set<string>;
    try {
      const answer = (await consumer.invoke({ Records: batch.map((m) => recordOf(queue, m, options.region)) })) as
        | { batchItemFailures?: Array<{ itemIdentifier?: string }> }
        | undefined;
      const reported = consumer.reportBatchItemFailures ? (answer?.batchItemFailures ?? []) : [];
      failed = new Set(reported.map((f) => String(f.itemIdentifier)));
      // An identifier that names no message of the batch fails the whole batch, as Lambda treats it.
      if ([...failed].some((id) => !batch.some((m) => m.messageId === id))) failed = new Set(batch.map((m) => m.messageId));
    } catch {
      failed = new Set(batch.map((m) => m.messageId));
    }
    const done = batch.filter((m) => !failed.has(m.messageId));
    if (done.length > 0 && (!consumer.authorize || (await consumer.authorize('sqs:DeleteMessage', queue.spec.arn)))) {
      queue.messages = queue.messages.filter((m) => !done.includes(m));
    } else {
      for (const message of done) returnToQueue(queue, message, true);
    }
    for (const message of batch.filter((m) => failed.has(m.messageId))) returnToQueue(queue, message, true);
  };

  /** Back to waiting out its visibility timeout, or on to the dead-letter queue after its last receive. */
  const returnToQueue = (queue: Queue, message: Message, received: boolean) => {
    message.inFlight = false;
    if (!received) {
      message.receiveCount -= 1;
      message.visibleAt = Date.now() + visibilityMs(queue);
      return;
    }
    const redrive = queue.spec.redrive;
    const target = redrive ? byArn.get(redrive.deadLetterTargetArn) : undefined;
    if (redrive && target && message.receiveCount >= redrive.maxReceiveCount) {
      queue.messages = queue.messages.filter((m) => m !== message);
      target.messages.push({ ...message, receiveCount: 0, inFlight: false, visibleAt: Date.now() });
      log(`local SQS: message ${message.messageId} (group ${message.group ?? '-'}) failed ${message.receiveCount} receives; moved to ${target.spec.name}`);
      options.onDeadLetter?.(target.spec, { messageId: message.messageId, body: message.body, group: message.group });
      pump(target);
      return;
    }
    message.visibleAt = Date.now() + visibilityMs(queue);
  };

  const sendMessage = (body: Record<string, unknown>): { status: number; reply: Record<string, unknown> } => {
    const fail = (type: string, message: string) => ({ status: 400, reply: { __type: `com.amazonaws.sqs#${type}`, message } });
    const url = typeof body.QueueUrl === 'string' ? body.QueueUrl : '';
    const queue = byName.get(url.split('/').pop() ?? '');
    if (!queue || queue.spec.url !== url) return fail('QueueDoesNotExist', 'The specified queue does not exist.');
    const text = body.MessageBody;
    if (typeof text !== 'string' || text === '') return fail('MissingParameter', 'The request must contain the parameter MessageBody.');
    if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) return fail('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_BODY_BYTES} bytes.`);
    const group = typeof body.MessageGroupId === 'string' ? body.MessageGroupId : undefined;
    const dedupeId = typeof body.MessageDeduplicationId === 'string' ? body.MessageDeduplicationId : undefined;
    if (queue.spec.fifo && !group) return fail('MissingParameter', 'The request must contain the parameter MessageGroupId.');
    if (queue.spec.fifo && !dedupeId) {
      return fail('InvalidParameterValue', 'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
    }
    const md5 = createHash('md5').update(text, 'utf8').digest('hex');
    const now = Date.now();
    if (queue.spec.fifo && dedupeId) {
      const seen = queue.dedupe.get(dedupeId);
      // Accepted and dropped: the sender cannot tell a duplicate from a first send, as in SQS.
      if (seen && seen.expiresAt > now) return { status: 200, reply: { MD5OfMessageBody: md5, MessageId: seen.messageId, SequenceNumber: seen.sequenceNumber } };
    }
    const message = enqueue(queue, text, group, dedupeId);
    if (queue.spec.fifo && dedupeId) {
      queue.dedupe.set(dedupeId, { expiresAt: now + DEDUPLICATION_WINDOW_MS, messageId: message.messageId, sequenceNumber: message.sequenceNumber });
      for (const [id, entry] of queue.dedupe) if (entry.expiresAt <= now) queue.dedupe.delete(id);
    }
    return { status: 200, reply: { MD5OfMessageBody: md5, MessageId: message.messageId, ...(queue.spec.fifo ? { SequenceNumber: message.sequenceNumber } : {}) } };
  };

  const service = await startAwsJsonService({
    host: options.host,
    contentType: 'application/x-amz-json-1.0',
    refused: { __type: 'com.amazonaws.sqs#AccessDenied', message: 'requests must be addressed to the local SQS itself' },
    notJson: { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'the request body is not JSON' },
    handle: (target, body) => {
      if (target !== 'AmazonSQS.SendMessage') {
        return { status: 400, body: { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `the local SQS does not answer ${target || 'a request without X-Amz-Target'}` } };
      }
      const { status, reply } = sendMessage(body);
      return { status, body: reply };
    },
  });
  const endpoint = service.endpoint;

  return {
    endpoint,
    attach(queueArn, consumer) {
      const queue = byArn.get(queueArn);
      if (!queue) throw new Error(`local SQS: no queue ${queueArn} to map`);
      queue.consumer = consumer;
      pump(queue);
    },
    snapshot(queueArn) {
      const queue = byArn.get(queueArn);
      const messages = queue?.messages ?? [];
      return { waiting: messages.filter((m) => !m.inFlight).length, inFlight: messages.filter((m) => m.inFlight).length, bodies: messages.map((m) => m.body) };
    },
    drained() {
      return new Promise((resolve) => {
        idle.push(resolve);
        settle();
      });
    },
    forgetDeduplication() {
      for (const queue of byArn.values()) queue.dedupe.clear();
    },
    setEnabled(queueArn, enabled) {
      const queue = byArn.get(queueArn);
      if (!queue) throw new Error(`local SQS: no queue ${queueArn} to map`);
      queue.disabled = !enabled;
      if (enabled) pump(queue);
    },
    async close() {
      closed = true;
      for (const queue of byArn.values()) if (queue.timer) clearTimeout(queue.timer);
      await Promise.allSettled([...running]);
      await service.close();
    },
  };
}

/** A message as Lambda's SQS event carries it. */
function recordOf(queue: Queue, message: Message, region: string): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: `${message.messageId}#${message.receiveCount}`,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'AROALOCAL',
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? Date.now()),
      ...(queue.spec.fifo ? { SequenceNumber: message.sequenceNumber, MessageGroupId: message.group, MessageDeduplicationId: message.dedupeId } : {}),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(message.body, 'utf8').digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.spec.arn,
    awsRegion: region,
  };
}
