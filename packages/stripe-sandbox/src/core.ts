// The shared context every handler and billing routine works on: the store, the clock rules,
// event recording and the webhook queue. Handlers run synchronously, so no request interleaves.
import Stripe from 'stripe';
import { fixture } from './fixtures.ts';
import { newId } from './ids.ts';
import type { SandboxEvent, Store } from './store.ts';
import { realNow } from './time.ts';
import type { WebhookDispatcher } from './webhooks.ts';

/** The API version stamped on events and responses: the one the installed SDK is typed for. */
export const API_VERSION: string = Stripe.API_VERSION;

/**
 * API versions a request's `Stripe-Version` (or a webhook endpoint's `api_version`) may name: the
 * SDK's, and published ones from Stripe's changelog (https://docs.stripe.com/changelog, and
 * https://docs.stripe.com/webhooks/versioning for 2024-09-30.acacia). Anything else is refused as
 * Stripe refuses it. The sandbox renders one shape, the SDK's, whatever version is named.
 */
export const KNOWN_API_VERSIONS: ReadonlySet<string> = new Set([
  API_VERSION,
  '2025-03-31.basil',
  '2024-09-30.acacia',
  '2024-06-20',
  '2023-10-16',
  '2022-11-15',
  '2022-08-01',
  '2020-08-27',
  '2019-12-03',
  '2019-02-19',
]);

export interface RequestInfo {
  id: string | null;
  idempotencyKey: string | null;
}

/** Account settings that Stripe keeps in the Dashboard rather than on objects. */
export interface AccountSettings {
  /**
   * Billing's automatic retries (Settings → Billing → Revenue recovery → Retries), as a custom
   * schedule: each entry is the days after the previous failed attempt. Empty: retries are off,
   * which is what this product recommends when the policy says `retries: "workflow"`.
   */
  automaticRetryDays: number[];
  /**
   * Days before a renewal that `invoice.upcoming` is sent (Settings → Billing → Subscriptions →
   * upcoming renewal events). Stripe's default is 3.
   */
  upcomingInvoiceDays: number;
  /**
   * "Manage failed payments" → Subscription status, if all retries for a payment fail: cancel the
   * subscription (Stripe's default), mark it `unpaid`, or leave it `past_due`. With no automatic
   * retries, the first failed attempt is the last one, so it applies then.
   */
  subscriptionAfterRetries: SubscriptionAfterRetries;
  /** "Manage failed payments" → Invoice status, if all retries fail: leave it past due (default) or mark it uncollectible. */
  invoiceAfterRetries: InvoiceAfterRetries;
  /**
   * The account's default API version (Workbench → Overview): used by requests without
   * `Stripe-Version` and by webhook endpoints without an `api_version` of their own.
   */
  defaultApiVersion: string;
}

export type SubscriptionAfterRetries = 'cancel' | 'unpaid' | 'past_due';
export type InvoiceAfterRetries = 'past_due' | 'uncollectible';

export class Core {
  readonly store: Store;
  settings: AccountSettings = {
    automaticRetryDays: [],
    upcomingInvoiceDays: 3,
    subscriptionAfterRetries: 'cancel',
    invoiceAfterRetries: 'past_due',
    defaultApiVersion: API_VERSION,
  };
  readonly webhooks: WebhookDispatcher;
  readonly log: (line: string) => void;
  /** The API request being handled; events it causes name it in `request`. */
  request: RequestInfo = { id: null, idempotencyKey: null };

  constructor(store: Store, webhooks: WebhookDispatcher, log: (line: string) => void) {
    this.store = store;
    this.webhooks = webhooks;
    this.log = log;
  }

  get baseUrl(): string {
    return this.store.state.baseUrl;
  }

  clockTime(clockId: string | null | undefined): number {
    if (clockId) {
      const clock = this.store.get('test_clock', clockId);
      if (clock) return clock.frozen_time;
    }
    return realNow();
  }

  clockOfCustomer(customerId: string | null | undefined): string | null {
    if (!customerId) return null;
    const clock = this.store.get('customer', customerId)?.test_clock;
    return typeof clock === 'string' ? clock : (clock?.id ?? null);
  }

  nowForCustomer(customerId: string | null | undefined): number {
    return this.clockTime(this.clockOfCustomer(customerId));
  }

  /** The test clock an object lives on, found through its own field or its customer/invoice. */
  clockOfObject(obj: Record<string, unknown>): string | null {
    if (typeof obj.test_clock === 'string') return obj.test_clock;
    if (typeof obj.customer === 'string') return this.clockOfCustomer(obj.customer);
    if (typeof obj.invoice === 'string') {
      const inv = this.store.get('invoice', obj.invoice);
      if (inv) return typeof inv.test_clock === 'string' ? inv.test_clock : null;
    }
    return null;
  }

  /** Records a `type` event about `object` as it is now (the store takes its JSON at once). */
  emit(type: string, object: object, previous?: Record<string, unknown>): void {
    const snapshot = object as Record<string, unknown>;
    const event = fixture<SandboxEvent>('event');
    event.id = newId('evt');
    // Rendered at the endpoint's version, or the account's default (https://docs.stripe.com/webhooks/versioning).
    event.api_version = this.webhooks.apiVersion ?? this.settings.defaultApiVersion;
    event.created = this.clockTime(this.clockOfObject(snapshot));
    event.data = previous ? { object: snapshot, previous_attributes: previous } : { object: snapshot };
    event.livemode = false;
    // One for each endpoint it is sent to; each delivery takes one off.
    event.pending_webhooks = this.webhooks.recipients(type);
    event.request = { id: this.request.id, idempotency_key: this.request.idempotencyKey };
    event.type = type;
    this.store.putEvent(event);
    this.webhooks.enqueue(event.id, type);
    this.store.scheduleSave();
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * `data.previous_attributes`: the old values of what changed. Nested hashes are diffed key by
 * key as Stripe does (`invoice_settings: { default_payment_method: null }`); arrays and lists
 * are reported whole.
 */
export function previousAttributes(before: object, after: object): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    const was = b[key];
    const now = a[key];
    if (sameJson(was, now)) continue;
    if (isPlainObject(was) && isPlainObject(now) && was.object !== 'list') {
      out[key] = previousAttributes(was, now) ?? {};
    } else {
      out[key] = was === undefined ? null : structuredClone(was);
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
