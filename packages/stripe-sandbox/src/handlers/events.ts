// /v1/events: every state change the sandbox made, newest first.
import { invalidRequest, resourceMissing } from '../errors.ts';
import { createdFilter, paginate } from '../list.ts';
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
  // Filtered and paged by type and time alone; only the page's events are parsed.
  const exact = type !== undefined && !type.endsWith('.*');
  const heads = core.store
    .eventHeads(exact ? type : undefined)
    .filter((e) => (matchers.length === 0 || matchers.some((m) => m(e.type))) && created(e.created));
  return paginate(core, heads, p, '/v1/events', (head) => core.store.getEvent(head.id)!);
}

function retrieveEvent({ core, args }: Ctx): unknown {
  const event = core.store.getEvent(args[0]!);
  if (!event) throw resourceMissing('event', args[0]!);
  return event;
}

export const eventRoutes: Route[] = [
  route('GET', '/v1/events', listEvents),
  route('GET', '/v1/events/:id', retrieveEvent),
];
