// The sandbox's whole state (objects, events, idempotency records) and its JSON persistence:
// loaded once at start, saved debounced after changes and on close.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type Stripe from 'stripe';
import { z } from 'zod';

export interface SandboxEvent {
  id: string;
  object: 'event';
  api_version: string | null;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface Collections {
  customer: Record<string, Stripe.Customer>;
  payment_method: Record<string, Stripe.PaymentMethod>;
  product: Record<string, Stripe.Product>;
  price: Record<string, Stripe.Price>;
  subscription: Record<string, Stripe.Subscription>;
  invoice: Record<string, Stripe.Invoice>;
  invoiceitem: Record<string, Stripe.InvoiceItem>;
  payment_intent: Record<string, Stripe.PaymentIntent>;
  charge: Record<string, Stripe.Charge>;
  invoice_payment: Record<string, Stripe.InvoicePayment>;
  test_clock: Record<string, Stripe.TestHelpers.TestClock>;
  portal_session: Record<string, Stripe.BillingPortal.Session>;
  /** As retrieve answers them: without `secret` (kept in `webhookEndpointSecrets`). */
  webhook_endpoint: Record<string, Stripe.WebhookEndpoint>;
}

export type Kind = keyof Collections;
export type ObjectOf<K extends Kind> = Collections[K][string];

export interface IdempotencyRecord {
  method: string;
  path: string;
  paramsHash: string;
  status: number;
  body: string;
  requestId: string;
  createdMs: number;
}

export interface SandboxState {
  version: 1;
  baseUrl: string;
  /** Events are not here but in the store's event log; the file keeps them as `objects.event`. */
  objects: Collections;
  /** Creation order, the tie-breaker for lists sorted by `created`. */
  seq: Record<string, number>;
  nextSeq: number;
  /** Deleted customers keep their record (invoices still point at them) but read as deleted. */
  deletedCustomers: Record<string, number>;
  /** Which test card a payment method was made from; decides how its charges behave. */
  cards: Record<string, string>;
  portalExpiresAtMs: Record<string, number>;
  idempotency: Record<string, IdempotencyRecord>;
  /** Per subscription, the period end whose `invoice.upcoming` has been sent (once per period). */
  upcomingSentFor?: Record<string, number>;
  /** Per invoice, the payment methods that hard-declined on it: Stripe's retries skip them. */
  hardDeclined?: Record<string, string[]>;
  /**
   * Per webhook endpoint made through the API, what its object does not show: the secret it signs
   * with (returned once, at creation) and whether it is a Connect endpoint.
   */
  webhookEndpointSecrets?: Record<string, { secret: string; connect: boolean }>;
}

const KINDS: Kind[] = [
  'customer',
  'payment_method',
  'product',
  'price',
  'subscription',
  'invoice',
  'invoiceitem',
  'payment_intent',
  'charge',
  'invoice_payment',
  'test_clock',
  'portal_session',
  'webhook_endpoint',
];

function emptyState(baseUrl: string): SandboxState {
  const objects = Object.fromEntries(KINDS.map((k) => [k, {}])) as unknown as Collections;
  return {
    version: 1,
    baseUrl,
    objects,
    seq: {},
    nextSeq: 1,
    deletedCustomers: {},
    cards: {},
    portalExpiresAtMs: {},
    idempotency: {},
  };
}

// Only the envelope is checked; the objects are trusted as this sandbox wrote them.
const persistedShape = z.object({
  version: z.literal(1),
  baseUrl: z.string(),
  objects: z.record(z.string(), z.record(z.string(), z.unknown())),
  seq: z.record(z.string(), z.number()),
  nextSeq: z.number(),
  deletedCustomers: z.record(z.string(), z.number()),
  cards: z.record(z.string(), z.string()),
  portalExpiresAtMs: z.record(z.string(), z.number()),
  idempotency: z.record(z.string(), z.unknown()),
});

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

type IndexKey = string | null;
function refId(ref: unknown): IndexKey {
  if (ref === null || ref === undefined) return null;
  return typeof ref === 'string' ? ref : ((ref as { id?: string }).id ?? null);
}

/**
 * The fields `where` answers from an index instead of walking every object of a kind: what the
 * billing routines look things up by (a customer's invoices, an invoice's payments, the objects
 * on a test clock, events of a type). Each is fixed when the object is made, except a payment
 * method's `customer`, which `attach` re-`put`s after setting.
 */
const INDEXED: { [K in Kind]?: Record<string, (o: ObjectOf<K>) => IndexKey> } = {
  subscription: { customer: (o) => refId(o.customer), test_clock: (o) => refId(o.test_clock) },
  invoice: { customer: (o) => refId(o.customer), test_clock: (o) => refId(o.test_clock) },
  invoice_payment: { invoice: (o) => refId(o.invoice) },
  payment_method: { customer: (o) => refId(o.customer) },
};

/**
 * An event as the JSON text Stripe sends (pretty-printed), parsed only when read. Events are most
 * of what a long run holds (each a snapshot of an invoice or subscription): as text they cost the
 * heap a fraction of the objects, and the garbage collector nothing to trace.
 */
interface LoggedEvent {
  type: string;
  created: number;
  text: string;
}

/** One field's index: which ids hold each value, and the value each id was filed under. */
interface FieldIndex {
  key: (o: never) => IndexKey;
  buckets: Map<IndexKey, Set<string>>;
  filed: Map<string, IndexKey>;
}
const SAVE_DEBOUNCE_MS = 50;

function isAgeOrdered(objects: unknown[], seq: Record<string, number>): boolean {
  for (let i = 1; i < objects.length; i++) {
    if ((seq[(objects[i - 1] as { id: string }).id] ?? 0) > (seq[(objects[i] as { id: string }).id] ?? 0)) return false;
  }
  return true;
}

export class Store {
  state: SandboxState;
  private readonly file: string | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private indexes = new Map<Kind, Map<string, FieldIndex>>();
  /** Every event by id, oldest first, and the ids of each type, oldest first. */
  private readonly events = new Map<string, LoggedEvent>();
  private readonly eventsOfType = new Map<string, string[]>();
  /** Idempotency keys in the order they were saved (so by age): expiry pops from the front. */
  private idempotencyAges: Array<{ key: string; createdMs: number }> = [];
  private idempotencyAgesHead = 0;

  constructor(baseUrl: string, dataDir?: string) {
    this.file = dataDir ? join(dataDir, 'stripe-sandbox.json') : undefined;
    this.state = emptyState(baseUrl);
    if (this.file && existsSync(this.file)) this.load(this.file, baseUrl);
    this.rebuildIndexes();
  }

  private rebuildIndexes(): void {
    this.indexes = new Map();
    for (const kind of KINDS) {
      const fields = INDEXED[kind] as Record<string, (o: never) => IndexKey> | undefined;
      if (!fields) continue;
      const byField = new Map<string, FieldIndex>();
      for (const [field, key] of Object.entries(fields)) byField.set(field, { key, buckets: new Map(), filed: new Map() });
      this.indexes.set(kind, byField);
      for (const obj of Object.values(this.state.objects[kind])) this.fileUnder(kind, obj as ObjectOf<typeof kind>);
    }
    this.idempotencyAges = Object.entries(this.state.idempotency)
      .map(([key, r]) => ({ key, createdMs: r.createdMs }))
      .sort((a, b) => a.createdMs - b.createdMs);
    this.idempotencyAgesHead = 0;
  }

  /** Files (or re-files, if an indexed field changed) an object under each of its kind's indexes. */
  private fileUnder<K extends Kind>(kind: K, obj: ObjectOf<K>): void {
    const byField = this.indexes.get(kind);
    if (!byField) return;
    const id = (obj as { id: string }).id;
    for (const index of byField.values()) {
      const value = index.key(obj as never);
      const was = index.filed.get(id);
      if (was === value && index.filed.has(id)) continue;
      if (index.filed.has(id)) index.buckets.get(was ?? null)?.delete(id);
      index.filed.set(id, value);
      let bucket = index.buckets.get(value);
      if (!bucket) index.buckets.set(value, (bucket = new Set()));
      bucket.add(id);
    }
  }

  private unfile(kind: Kind, id: string): void {
    const byField = this.indexes.get(kind);
    if (!byField) return;
    for (const index of byField.values()) {
      if (!index.filed.has(id)) continue;
      index.buckets.get(index.filed.get(id) ?? null)?.delete(id);
      index.filed.delete(id);
    }
  }

  private load(file: string, baseUrl: string): void {
    let text = readFileSync(file, 'utf8');
    const parsed = persistedShape.parse(JSON.parse(text));
    // Hosted invoice and portal URLs embed the old port; rewrite them to where we listen now.
    if (parsed.baseUrl !== baseUrl) {
      text = text.split(parsed.baseUrl).join(baseUrl);
    }
    const state = JSON.parse(text) as SandboxState & { objects: { event?: Record<string, SandboxEvent> } };
    for (const kind of KINDS) state.objects[kind] ??= {} as never;
    state.baseUrl = baseUrl;
    const events = state.objects.event ?? {};
    delete state.objects.event;
    this.state = state;
    for (const event of Object.values(events)) this.logEvent(event);
  }

  get<K extends Kind>(kind: K, id: string): ObjectOf<K> | undefined {
    return (this.state.objects[kind] as Record<string, ObjectOf<K>>)[id];
  }

  put<K extends Kind>(kind: K, obj: ObjectOf<K>): ObjectOf<K> {
    const id = (obj as { id: string }).id;
    const bucket = this.state.objects[kind] as Record<string, ObjectOf<K>>;
    if (!(id in bucket)) this.state.seq[id] = this.state.nextSeq++;
    bucket[id] = obj;
    this.fileUnder(kind, obj);
    return obj;
  }

  remove(kind: Kind, id: string): void {
    delete (this.state.objects[kind] as Record<string, unknown>)[id];
    this.unfile(kind, id);
  }

  /** Every object of a kind, oldest first. Walks them all: prefer `where` on an indexed field. */
  all<K extends Kind>(kind: K): ObjectOf<K>[] {
    return Object.values(this.state.objects[kind] as Record<string, ObjectOf<K>>);
  }

  /**
   * The objects of `kind` whose indexed `field` is `value` (an id for references; null for none),
   * oldest first; what `all(kind).filter(o => field of o === value)` would give, from the index.
   */
  where<K extends Kind>(kind: K, field: string, value: string | null): ObjectOf<K>[] {
    const index = this.indexes.get(kind)?.get(field);
    if (!index) throw new Error(`stripe-sandbox: ${kind}.${field} is not indexed`);
    const ids = index.buckets.get(value);
    if (!ids) return [];
    const objects = this.state.objects[kind] as Record<string, ObjectOf<K>>;
    const out: ObjectOf<K>[] = [];
    for (const id of ids) {
      const obj = objects[id];
      // An object changed in place without a `put` is checked, never trusted to its old bucket.
      if (obj && index.key(obj as never) === value) out.push(obj);
    }
    // Re-filed objects (a payment method attached later) join their bucket's end: restore age order.
    return out.length > 1 && !isAgeOrdered(out, this.state.seq) ? out.sort((a, b) => this.seqOf((a as { id: string }).id) - this.seqOf((b as { id: string }).id)) : out;
  }

  seqOf(id: string): number {
    return this.state.seq[id] ?? 0;
  }

  /** Records an event (its JSON is taken now: later changes to the objects it holds do not reach it). */
  putEvent(event: SandboxEvent): void {
    if (!this.events.has(event.id)) this.state.seq[event.id] = this.state.nextSeq++;
    this.logEvent(event);
  }

  private logEvent(event: SandboxEvent): void {
    if (!this.events.has(event.id)) {
      let ids = this.eventsOfType.get(event.type);
      if (!ids) this.eventsOfType.set(event.type, (ids = []));
      ids.push(event.id);
    }
    this.events.set(event.id, { type: event.type, created: event.created, text: JSON.stringify(event, null, 2) });
  }

  getEvent(id: string): SandboxEvent | undefined {
    const logged = this.events.get(id);
    return logged ? (JSON.parse(logged.text) as SandboxEvent) : undefined;
  }

  /** The event's JSON as a webhook sends it, with its type. */
  eventPayload(id: string): { type: string; payload: string } | undefined {
    const logged = this.events.get(id);
    return logged ? { type: logged.type, payload: logged.text } : undefined;
  }

  /** Delivered to one of the endpoints it was sent to: one fewer pending. */
  markEventDelivered(id: string): void {
    const event = this.getEvent(id);
    if (!event || event.pending_webhooks === 0) return;
    event.pending_webhooks -= 1;
    this.logEvent(event);
  }

  /** Ids and creation times of the events (of one type, if given), oldest first, without parsing any. */
  eventHeads(type?: string): Array<{ id: string; created: number; type: string }> {
    const ids = type === undefined ? this.events.keys() : (this.eventsOfType.get(type) ?? []);
    const heads: Array<{ id: string; created: number; type: string }> = [];
    for (const id of ids) {
      const logged = this.events.get(id)!;
      heads.push({ id, created: logged.created, type: logged.type });
    }
    return heads;
  }

  isDeletedCustomer(id: string): boolean {
    return id in this.state.deletedCustomers;
  }

  idempotencyRecord(key: string): IdempotencyRecord | undefined {
    const record = this.state.idempotency[key];
    if (record && Date.now() - record.createdMs > IDEMPOTENCY_TTL_MS) {
      delete this.state.idempotency[key];
      return undefined;
    }
    return record;
  }

  saveIdempotency(key: string, record: IdempotencyRecord): void {
    this.state.idempotency[key] = record;
    this.idempotencyAges.push({ key, createdMs: record.createdMs });
    // Records expire oldest first, so only the front of the queue is ever looked at.
    const cutoff = Date.now() - IDEMPOTENCY_TTL_MS;
    const ages = this.idempotencyAges;
    while (this.idempotencyAgesHead < ages.length && ages[this.idempotencyAgesHead]!.createdMs < cutoff) {
      const { key: old, createdMs } = ages[this.idempotencyAgesHead++]!;
      // A key saved again since (after its record expired) is younger than this entry: keep it.
      if (this.state.idempotency[old]?.createdMs === createdMs) delete this.state.idempotency[old];
    }
    if (this.idempotencyAgesHead > 1024 && this.idempotencyAgesHead * 2 > ages.length) {
      this.idempotencyAges = ages.slice(this.idempotencyAgesHead);
      this.idempotencyAgesHead = 0;
    }
  }

  scheduleSave(): void {
    if (!this.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.flush();
    }, SAVE_DEBOUNCE_MS);
  }

  flush(): void {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    if (!this.file) return;
    mkdirSync(join(this.file, '..'), { recursive: true });
    // Write-then-rename so a crash mid-write never leaves a truncated state file.
    const tmp = `${this.file}.${process.pid}.tmp`;
    // Events are written as the JSON they are kept as, in place of a placeholder.
    const placeholder = '"__stripe_sandbox_events__"';
    const state = JSON.stringify({ ...this.state, objects: { ...this.state.objects, event: JSON.parse(placeholder) as string } });
    const events = `{${[...this.events].map(([id, e]) => `${JSON.stringify(id)}:${e.text}`).join(',')}}`;
    writeFileSync(tmp, state.replace(placeholder, () => events));
    renameSync(tmp, this.file);
  }
}
