// EventBridge on loopback (its awsJson1_1 protocol, `AWSEvents.PutEvents` only): the product's
// events land here as they would on the stack's bus, are kept in memory for `GET /events` and the
// tests, and may be forwarded to a URL of the developer's (DUNNING_EVENTS_URL). No rules or targets:
// what subscribes to the bus in AWS is the merchant's own.
import { randomUUID } from 'node:crypto';
import { startAwsJsonService, type LocalService } from '../http-service.ts';

/** An event as the bus holds it, and as `GET /events` serves it (less `bus` and `id`). */
export interface PublishedEvent {
  source: string;
  detailType: string;
  /** The entry's Detail, parsed. */
  detail: Record<string, unknown>;
  /** ISO 8601: the entry's Time, or when PutEvents took it. */
  time: string;
}

export interface StoredEvent extends PublishedEvent {
  /** The bus's name. */
  bus: string;
  /** The EventId PutEvents answered. */
  id: string;
}

export interface EventFilter {
  /** Matches `detail.customerId` (cus_…). */
  customer?: string;
  detailType?: string;
}

/** How the next PutEvents calls fail (fault injection for tests). */
export type PutEventsFault = 'throttle' | 'internal' | 'entry';

export interface LocalEventBridge extends LocalService {
  /** `arn:aws:events:<region>:<account>:event-bus/<name>` */
  busArn(name: string): string;
  /** Every accepted event matching `filter`, oldest first (newest last). */
  events(filter?: EventFilter): StoredEvent[];
  /**
   * The next `n` PutEvents calls fail, keeping nothing: `throttle` answers a ThrottlingException
   * (400), `internal` an InternalException (500), `entry` a 200 whose every entry failed
   * (`InternalFailure`), as EventBridge answers each of them now and then.
   */
  failNext(n: number, how: PutEventsFault): void;
}

export interface LocalEventBridgeOptions {
  host: string;
  /** The buses that exist, by name. `default` exists in every account and need not be listed. */
  buses: readonly string[];
  region: string;
  account: string;
  /** POST each accepted event to this URL as JSON (DUNNING_EVENTS_URL). */
  forwardUrl?: string;
  log?: (line: string) => void;
}

/** PutEvents' quotas, as the API reference gives them. */
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
/** Forwarding: attempts per event, and the first wait between them (doubled after each). */
const FORWARD_ATTEMPTS = 5;
const FORWARD_FIRST_DELAY_MS = 200;

interface RequestEntry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  EventBusName?: unknown;
  Time?: unknown;
  Resources?: unknown;
}

type ResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export async function startLocalEventBridge(options: LocalEventBridgeOptions): Promise<LocalEventBridge> {
  const log = options.log ?? ((line: string) => console.error(line));
  const busArn = (name: string) => `arn:aws:events:${options.region}:${options.account}:event-bus/${name}`;
  const buses = new Set(['default', ...options.buses]);
  const stored: StoredEvent[] = [];
  const faults: PutEventsFault[] = [];
  const forwarder = options.forwardUrl ? new Forwarder(options.forwardUrl, log) : undefined;

  /** The bus an entry names (by name or ARN; none is `default`), or undefined when it is not one of ours. */
  const busOf = (entry: RequestEntry): { name: string; known: boolean } => {
    const given = typeof entry.EventBusName === 'string' && entry.EventBusName !== '' ? entry.EventBusName : 'default';
    if (given.startsWith('arn:')) {
      const name = /^arn:aws:events:([^:]+):(\d{12}):event-bus\/(.+)$/.exec(given);
      const ours = name && name[1] === options.region && name[2] === options.account;
      return { name: name?.[3] ?? given, known: Boolean(ours && buses.has(name![3]!)) };
    }
    return { name: given, known: buses.has(given) };
  };

  const putEvents = (entries: RequestEntry[]): { FailedEntryCount: number; Entries: ResultEntry[] } => {
    const results = entries.map((entry): ResultEntry => {
      const invalid = invalidEntry(entry);
      if (invalid) return invalid;
      const detail = parseDetail(entry.Detail as string);
      if (!detail) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      const bus = busOf(entry);
      const id = randomUUID();
      if (!bus.known) {
        // EventBridge accepts an event for a bus that does not exist and drops it, answering an
        // EventId all the same (aws/aws-sdk#186, aws/aws-cli#9186; PutEvents documents no
        // not-found error). So does this stand-in, but it says so: locally nobody else would.
        log(`local EventBridge: no event bus "${bus.name}"; the event ${String(entry.DetailType)} is dropped, as AWS drops it`);
        return { EventId: id };
      }
      const event: StoredEvent = {
        source: entry.Source as string,
        detailType: entry.DetailType as string,
        detail,
        time: timeOf(entry.Time),
        bus: bus.name,
        id,
      };
      stored.push(event);
      forwarder?.push(event);
      return { EventId: id };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  };

  const error = (status: number, type: string, message: string) => ({ status, body: { __type: type, message } });
  const service = await startAwsJsonService({
    host: options.host,
    contentType: 'application/x-amz-json-1.1',
    refused: { __type: 'AccessDeniedException', message: 'requests must be addressed to the local EventBridge itself' },
    notJson: { __type: 'SerializationException', message: 'the request body is not JSON' },
    handle: (target, body) => {
      if (target !== 'AWSEvents.PutEvents') return error(400, 'UnknownOperationException', `the local EventBridge does not answer ${target || 'a request without X-Amz-Target'}`);
      const entries = body.Entries;
      if (!Array.isArray(entries) || entries.length === 0) {
        return error(400, 'ValidationException', "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
      }
      if (entries.length > MAX_ENTRIES) {
        return error(
          400,
          'ValidationException',
          `1 validation error detected: Value '[${entries.length} entries]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES}`,
        );
      }
      if (entries.reduce((sum: number, entry) => sum + entrySize(entry as RequestEntry), 0) > MAX_REQUEST_BYTES) {
        return error(400, 'ValidationException', 'Total size of the entries in the request is over the limit.');
      }
      const fault = faults.shift();
      if (fault === 'throttle') return error(400, 'ThrottlingException', 'Rate exceeded');
      if (fault === 'internal') return error(500, 'InternalException', 'An internal error occurred (injected by the local EventBridge)');
      if (fault === 'entry') {
        return {
          status: 200,
          body: {
            FailedEntryCount: entries.length,
            Entries: entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal Failure (injected by the local EventBridge)' })),
          },
        };
      }
      return { status: 200, body: putEvents(entries as RequestEntry[]) };
    },
  });
  const endpoint = service.endpoint;
  return {
    endpoint,
    busArn,
    events: (filter = {}) =>
      stored.filter(
        (event) =>
          (filter.customer === undefined || event.detail.customerId === filter.customer) &&
          (filter.detailType === undefined || event.detailType === filter.detailType),
      ),
    failNext(n, how) {
      for (let i = 0; i < n; i++) faults.push(how);
    },
    async close() {
      forwarder?.stop();
      await service.close();
    },
  };
}

/** A required field missing, as EventBridge reports it for that one entry. */
function invalidEntry(entry: RequestEntry): ResultEntry | undefined {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof entry[field] !== 'string' || entry[field] === '') {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` };
    }
  }
  return undefined;
}

/** Detail must be a JSON object; anything else is `MalformedDetail`. */
function parseDetail(detail: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(detail);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The entry's Time (epoch seconds on the wire, as the SDK sends a Date), or now. */
function timeOf(time: unknown): string {
  const seconds = typeof time === 'number' ? time : typeof time === 'string' ? Number(time) : NaN;
  return new Date(Number.isFinite(seconds) ? seconds * 1000 : Date.now()).toISOString();
}

/**
 * An entry's size as the user guide's "Calculating PutEvents event entry size" counts it: Source,
 * DetailType, Detail and each Resource in UTF-8 bytes, and 14 bytes for a Time.
 */
function entrySize(entry: RequestEntry): number {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  let size = (entry?.Time !== undefined ? 14 : 0) + bytes(entry?.Source) + bytes(entry?.DetailType) + bytes(entry?.Detail);
  if (Array.isArray(entry?.Resources)) for (const resource of entry.Resources) size += bytes(resource);
  return size;
}

/**
 * POSTs each accepted event to a URL, one at a time in order, retrying a failure or a non-2xx
 * answer a few times with back-off. A convenience for watching the events from another program,
 * not the product's delivery path (in AWS, the merchant's rules and targets deliver): it never holds
 * up a PutEvents answer, and an event it still cannot deliver after the last attempt is logged in
 * one line and dropped, so one dead receiver does not stall the ones after it.
 */
class Forwarder {
  private readonly queue: PublishedEvent[] = [];
  private running = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly url: string,
    private readonly log: (line: string) => void,
  ) {}

  push({ source, detailType, detail, time }: PublishedEvent): void {
    this.queue.push({ source, detailType, detail, time });
    if (!this.running) void this.drain();
  }

  stop(): void {
    this.abort.abort();
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.abort.signal.aborted) {
        const event = this.queue.shift()!;
        const problem = await this.deliver(event);
        if (problem && !this.abort.signal.aborted) {
          this.log(`local EventBridge: could not forward ${event.detailType} to ${this.url} after ${FORWARD_ATTEMPTS} attempts (${problem}); dropped`);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Undefined once delivered; otherwise what the last attempt met. */
  private async deliver(event: PublishedEvent): Promise<string | undefined> {
    let problem = '';
    for (let attempt = 0; attempt < FORWARD_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(FORWARD_FIRST_DELAY_MS * 2 ** (attempt - 1), this.abort.signal);
      if (this.abort.signal.aborted) return 'stopped';
      try {
        const response = await fetch(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(event),
          signal: this.abort.signal,
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return undefined;
        problem = `HTTP ${response.status}`;
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    return problem;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
