// /v1/events: every state change the sandbox made, newest first.
import { invalidRequest } from '../errors.ts';
import { createdFilter, paginate } from '../list.ts';
import { mustGet } from '../lookup.ts';
import { route, type Ctx, type Route } from '../router.ts';

/** `type` accepts Stripe's wildcard form, e.g. `invoice.*`. */
function typeMatcher(pattern: string): (type: string) => boolean {
  if (pattern.endsWith('.*')) {
    const prefix = pattern.slice(0, -1);
    return (t) => t.startsWith(prefix);
  }
  return (t) => t === pattern;
}

function listEvents({ core, params: p }: Ctx): unknown {
  const type = p.string('type');
  const types = p.stringArray('types');
  if (type && types) throw invalidRequest('You may only specify one of these parameters: type, types.', { param: 'types' });
  if (types && types.length > 20) throw invalidRequest('You can specify at most 20 types.', { param: 'types' });
  const matchers = (types ?? (type ? [type] : [])).map(typeMatcher);
  const created = createdFilter(p);
  // One exact type is answered from the index by type; wildcards and lists walk every event.
  const exact = type !== undefined && !type.endsWith('.*');
  const items = (exact ? core.store.where('event', 'type', type) : core.store.all('event')).filter(
    (e) => (matchers.length === 0 || matchers.some((m) => m(e.type))) && created(e.created),
  );
  return paginate(core, items, p, '/v1/events');
}

export const eventRoutes: Route[] = [
  route('GET', '/v1/events', listEvents),
  route('GET', '/v1/events/:id', ({ core, args }) => mustGet(core, 'event', args[0]!)),
];
