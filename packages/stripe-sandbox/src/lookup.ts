// Finds stored objects by id and fails with Stripe's 404 `resource_missing` wording when absent.
import type Stripe from 'stripe';
import type { Core } from './core.ts';
import { resourceMissing } from './errors.ts';
import { deletedCustomer } from './objects/customer.ts';
import type { Kind, ObjectOf } from './store.ts';

const PREFIXES: Array<[string, Kind]> = [
  ['cus_', 'customer'],
  ['pm_', 'payment_method'],
  ['price_', 'price'],
  ['prod_', 'product'],
  ['sub_', 'subscription'],
  ['in_', 'invoice'],
  ['ii_', 'invoiceitem'],
  ['pi_', 'payment_intent'],
  ['ch_', 'charge'],
  ['inpay_', 'invoice_payment'],
  ['clock_', 'test_clock'],
  ['bps_', 'portal_session'],
  ['we_', 'webhook_endpoint'],
];

/** How Stripe names each type in "No such …" messages. */
const LABELS: Record<Kind, string> = {
  customer: 'customer',
  payment_method: 'PaymentMethod',
  product: 'product',
  price: 'price',
  subscription: 'subscription',
  invoice: 'invoice',
  invoiceitem: 'invoiceitem',
  payment_intent: 'payment_intent',
  charge: 'charge',
  invoice_payment: 'invoice_payment',
  test_clock: 'test_clock',
  portal_session: 'billing_portal.session',
  webhook_endpoint: 'webhook endpoint',
};

export function kindOfId(id: string): Kind | undefined {
  return PREFIXES.find(([prefix]) => id.startsWith(prefix))?.[1];
}

/** Any stored object by id, deleted customers in their deleted form. */
export function lookupAny(core: Core, id: string): object | undefined {
  if (id.startsWith('evt_')) return core.store.getEvent(id);
  const kind = kindOfId(id);
  if (!kind) return undefined;
  if (kind === 'customer' && core.store.isDeletedCustomer(id)) return deletedCustomer(id);
  return core.store.get(kind, id);
}

export function mustGet<K extends Kind>(core: Core, kind: K, id: string, param = 'id'): ObjectOf<K> {
  const obj = core.store.get(kind, id);
  if (!obj) throw resourceMissing(LABELS[kind], id, param);
  return obj;
}

/** A live customer; deleted ones are "No such customer" for everything but retrieve. */
export function liveCustomer(core: Core, id: string, param = 'id'): Stripe.Customer {
  const c = core.store.get('customer', id);
  if (!c || core.store.isDeletedCustomer(id)) throw resourceMissing('customer', id, param);
  return c;
}

export function idOf(ref: string | { id: string } | null | undefined): string | null {
  if (ref === null || ref === undefined) return null;
  return typeof ref === 'string' ? ref : ref.id;
}
