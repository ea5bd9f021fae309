// `expand[]` on responses: replaces id strings with the objects they name, following dotted
// paths through nested hashes and list `data`, plus invoices' includable `payments`,
// `amount_paid_off_stripe` and `confirmation_secret`. Anything else is Stripe's "cannot be expanded" error.
import { paymentIntentOf } from './billing/state.ts';
import type { Core } from './core.ts';
import { invalidRequest } from './errors.ts';
import { lookupAny } from './lookup.ts';

type Node = Record<string, unknown>;

function cannotExpand(path: string): never {
  throw invalidRequest(`This property cannot be expanded (${path}).`, { param: 'expand' });
}

function includable(core: Core, node: Node, key: string): boolean {
  if (node.object !== 'invoice') return false;
  const inv = core.store.get('invoice', node.id as string);
  if (!inv) return false;
  if (key === 'payments') {
    const data = core.store
      .where('invoice_payment', 'invoice', inv.id)
      .sort((a, b) => core.store.seqOf(b.id) - core.store.seqOf(a.id))
      .map((ip) => structuredClone(ip));
    node.payments = { object: 'list', data, has_more: false, total_count: data.length, url: `/v1/invoices/${inv.id}/payments` };
    return true;
  }
  if (key === 'amount_paid_off_stripe') {
    // Paid, less what invoice payments took through Stripe: marked paid out of band.
    const onStripe = core.store
      .where('invoice_payment', 'invoice', inv.id)
      .filter((ip) => ip.status === 'paid')
      .reduce((sum, ip) => sum + (ip.amount_paid ?? 0), 0);
    node.amount_paid_off_stripe = Math.max(0, inv.amount_paid - onStripe);
    return true;
  }
  if (key === 'confirmation_secret') {
    const pi = paymentIntentOf(core, inv);
    node.confirmation_secret = pi ? { client_secret: pi.client_secret, type: 'payment_intent' } : null;
    return true;
  }
  return false;
}

function expandAt(core: Core, node: Node, segments: string[], full: string): void {
  const [key, ...rest] = segments;
  if (key === undefined) return;
  const included = includable(core, node, key);
  if (!included && !(key in node)) cannotExpand(full);
  let value = node[key];
  // An includable scalar (amount_paid_off_stripe) is complete once included.
  if (included && (value === null || typeof value !== 'object')) return;
  if (typeof value === 'string') {
    const target = lookupAny(core, value);
    if (!target) cannotExpand(full);
    value = structuredClone(target);
    node[key] = value;
  } else if (value !== null && typeof value !== 'object') {
    cannotExpand(full);
  }
  if (rest.length === 0 || value === null) return;
  descend(core, value, rest, full);
}

function descend(core: Core, value: unknown, segments: string[], full: string): void {
  if (Array.isArray(value)) {
    for (const item of value) if (item && typeof item === 'object') descend(core, item, segments, full);
    return;
  }
  if (value && typeof value === 'object') expandAt(core, value as Node, segments, full);
}

/** A deep copy of `obj` with the requested expansions applied; stored objects stay unexpanded. */
export function render<T>(core: Core, obj: T, expand: string[]): T {
  const out = structuredClone(obj);
  for (const path of expand) {
    if (!path) continue;
    descend(core, out, path.split('.'), path);
  }
  return out;
}
