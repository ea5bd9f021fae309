// Stripe's list envelope and cursor pagination (`limit`, `starting_after`, `ending_before`),
// newest first.
import type { Core } from './core.ts';
import { render } from './expand.ts';
import { invalidRequest } from './errors.ts';
import type { Params } from './params.ts';

export interface ListEnvelope<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

function createdOf(o: unknown): number {
  return (o as { created?: number }).created ?? 0;
}

/** `materialize` turns the page's items into what is listed, when the items are only their ids and times. */
export function paginate<T extends { id: string }, R = T>(core: Core, items: T[], params: Params, url: string, materialize?: (item: T) => R): ListEnvelope<R> {
  const limit = params.int('limit', { min: 1, max: 100 }) ?? 10;
  const startingAfter = params.string('starting_after');
  const endingBefore = params.string('ending_before');
  const sorted = [...items].sort((a, b) => createdOf(b) - createdOf(a) || core.store.seqOf(b.id) - core.store.seqOf(a.id));
  let page: T[];
  let hasMore: boolean;
  if (startingAfter) {
    const at = sorted.findIndex((o) => o.id === startingAfter);
    if (at < 0) throw invalidRequest(`No such object: '${startingAfter}'`, { param: 'starting_after', code: 'resource_missing', status: 404 });
    page = sorted.slice(at + 1, at + 1 + limit);
    hasMore = at + 1 + limit < sorted.length;
  } else if (endingBefore) {
    const at = sorted.findIndex((o) => o.id === endingBefore);
    if (at < 0) throw invalidRequest(`No such object: '${endingBefore}'`, { param: 'ending_before', code: 'resource_missing', status: 404 });
    const start = Math.max(0, at - limit);
    page = sorted.slice(start, at);
    hasMore = start > 0;
  } else {
    page = sorted.slice(0, limit);
    hasMore = limit < sorted.length;
  }
  const data = materialize ? page.map(materialize) : (page as unknown as R[]);
  const envelope: ListEnvelope<R> = { object: 'list', data, has_more: hasMore, url };
  return render(core, envelope, params.expand());
}

/** `created` filters: an exact integer or a `gt/gte/lt/lte` hash. */
export function createdFilter(params: Params, key = 'created'): (created: number) => boolean {
  if (typeof params.raw[key] === 'string') {
    const exact = params.int(key);
    return exact === undefined ? () => true : (c) => c === exact;
  }
  const range = params.object(key);
  if (!range) return () => true;
  const gt = range.int('gt');
  const gte = range.int('gte');
  const lt = range.int('lt');
  const lte = range.int('lte');
  return (c) =>
    (gt === undefined || c > gt) && (gte === undefined || c >= gte) && (lt === undefined || c < lt) && (lte === undefined || c <= lte);
}
