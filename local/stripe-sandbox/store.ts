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
  event: Record<string, SandboxEvent>;
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
  'event',
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
const SAVE_DEBOUNCE_MS = 50;

export class Store {
  state: SandboxState;
  private readonly file: string | undefined;
  private saveTimer: NodeJS.Timeout | undefined;

  constructor(baseUrl: string, dataDir?: string) {
    this.file = dataDir ? join(dataDir, 'stripe-sandbox.json') : undefined;
    this.state = emptyState(baseUrl);
    if (this.file && existsSync(this.file)) this.load(this.file, baseUrl);
  }

  private load(file: string, baseUrl: string): void {
    let text = readFileSync(file, 'utf8');
    const parsed = persistedShape.parse(JSON.parse(text));
    // Hosted invoice and portal URLs embed the old port; rewrite them to where we listen now.
    if (parsed.baseUrl !== baseUrl) {
      text = text.split(parsed.baseUrl).join(baseUrl);
    }
    const state = JSON.parse(text) as SandboxState;
    for (const kind of KINDS) state.objects[kind] ??= {} as never;
    state.baseUrl = baseUrl;
    this.state = state;
  }

  get<K extends Kind>(kind: K, id: string): ObjectOf<K> | undefined {
    return (this.state.objects[kind] as Record<string, ObjectOf<K>>)[id];
  }

  put<K extends Kind>(kind: K, obj: ObjectOf<K>): ObjectOf<K> {
    const id = (obj as { id: string }).id;
    const bucket = this.state.objects[kind] as Record<string, ObjectOf<K>>;
    if (!(id in bucket)) this.state.seq[id] = this.state.nextSeq++;
    bucket[id] = obj;
    return obj;
  }

  remove(kind: Kind, id: string): void {
    delete (this.state.objects[kind] as Record<string, unknown>)[id];
  }

  all<K extends Kind>(kind: K): ObjectOf<K>[] {
    return Object.values(this.state.objects[kind] as Record<string, ObjectOf<K>>);
  }

  seqOf(id: string): number {
    return this.state.seq[id] ?? 0;
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
    const cutoff = Date.now() - IDEMPOTENCY_TTL_MS;
    for (const [k, r] of Object.entries(this.state.idempotency)) if (r.createdMs < cutoff) delete this.state.idempotency[k];
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
    writeFileSync(tmp, JSON.stringify(this.state));
    renameSync(tmp, this.file);
  }
}
