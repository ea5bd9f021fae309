// /v1/webhook_endpoints (https://docs.stripe.com/api/webhook_endpoints): endpoints made through the
// API. Each gets, signed with its own secret, every event its `enabled_events` names (`*`: all), at
// its `api_version` (or the account's default), as the host's own target does; a disabled one gets
// nothing. The secret is answered once, at creation.
import type Stripe from 'stripe';
import { KNOWN_API_VERSIONS, type Core } from '../core.ts';
import { invalidParam, invalidRequest, missingParam } from '../errors.ts';
import { EVENT_TYPES, isEnabledEventType } from '../event-types.ts';
import { render } from '../expand.ts';
import { paginate } from '../list.ts';
import { mustGet } from '../lookup.ts';
import { buildWebhookEndpoint, deletedWebhookEndpoint, newWebhookSecret } from '../objects/webhookEndpoint.ts';
import type { Params } from '../params.ts';
import { route, type Ctx, type Route } from '../router.ts';
import { realNow } from '../time.ts';

const KIND = 'webhook_endpoint';

/** Where the endpoint's events go now, or `undefined` when it gets none. */
export function registerWebhookEndpoint(core: Core, we: Stripe.WebhookEndpoint): void {
  const hidden = core.store.state.webhookEndpointSecrets?.[we.id];
  core.webhooks.setEndpointUrl(we.id, we.url);
  // A Connect endpoint gets connected accounts' events; the sandbox has no connected accounts.
  if (!hidden || hidden.connect || we.status !== 'enabled') return core.webhooks.setEndpoint(we.id, undefined);
  core.webhooks.setEndpoint(we.id, {
    url: we.url,
    secret: hidden.secret,
    enabledEvents: [...we.enabled_events],
    // "Events sent to this endpoint will be generated with this Stripe Version instead of your account's default".
    apiVersion: we.api_version ?? core.settings.defaultApiVersion,
  });
}

/** `url`: an absolute http(s) URL (Stripe refuses anything else to deliver to). */
function readUrl(p: Params, required: boolean): string | undefined {
  const url = required ? p.requireString('url') : p.string('url');
  if (url === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
    throw invalidRequest(`Invalid URL: ${url}. URLs must begin with http:// or https://.`, { param: 'url', code: 'url_invalid' });
  }
  return url;
}

/** `enabled_events`: `*` or Stripe's event types, refused as Stripe refuses an unknown one. */
function readEnabledEvents(p: Params, required: boolean): string[] | undefined {
  const types = p.stringArray('enabled_events');
  if (types === undefined || types.length === 0) {
    if (required) throw missingParam('enabled_events');
    return undefined;
  }
  types.forEach((type, i) => {
    if (!isEnabledEventType(type)) {
      const param = `enabled_events[${i}]`;
      throw invalidParam(param, `Invalid ${param}: must be one of ${EVENT_TYPES.join(', ')}`);
    }
  });
  return types;
}

function readDescription(p: Params): string | null | undefined {
  if (p.isEmpty('description')) return null;
  return p.string('description');
}

/** The object as retrieve answers it, plus its `secret` where Stripe puts it (only on create). */
function withSecret(we: Stripe.WebhookEndpoint, secret: string): Stripe.WebhookEndpoint {
  const entries = Object.entries({ ...we, secret }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries) as unknown as Stripe.WebhookEndpoint;
}

function createEndpoint({ core, params: p }: Ctx): unknown {
  const url = readUrl(p, true)!;
  const enabledEvents = readEnabledEvents(p, true)!;
  const apiVersion = p.oneOf('api_version', [...KNOWN_API_VERSIONS]) ?? null;
  const connect = p.bool('connect') ?? false;
  const we = buildWebhookEndpoint({
    created: realNow(),
    url,
    enabledEvents,
    description: readDescription(p) ?? null,
    metadata: p.metadata('metadata') ?? {},
    apiVersion,
  });
  const secret = newWebhookSecret();
  core.store.state.webhookEndpointSecrets ??= {};
  core.store.state.webhookEndpointSecrets[we.id] = { secret, connect };
  core.store.put(KIND, we);
  registerWebhookEndpoint(core, we);
  return withSecret(render(core, we, p.expand()), secret);
}

function updateEndpoint({ core, args, params: p }: Ctx): unknown {
  const we = mustGet(core, KIND, args[0]!);
  // "You can't change this value after you create the endpoint."
  if (p.has('api_version')) throw invalidRequest('Received unknown parameter: api_version', { param: 'api_version', code: 'parameter_unknown' });
  const url = readUrl(p, false);
  const enabledEvents = readEnabledEvents(p, false);
  const description = readDescription(p);
  const metadata = p.metadata('metadata', we.metadata);
  const disabled = p.bool('disabled');
  if (url !== undefined) we.url = url;
  if (enabledEvents !== undefined) we.enabled_events = enabledEvents;
  if (description !== undefined) we.description = description;
  if (metadata !== undefined) we.metadata = metadata;
  if (disabled !== undefined) we.status = disabled ? 'disabled' : 'enabled';
  core.store.put(KIND, we);
  registerWebhookEndpoint(core, we);
  return render(core, we, p.expand());
}

function deleteEndpoint({ core, args }: Ctx): unknown {
  const we = mustGet(core, KIND, args[0]!);
  core.store.remove(KIND, we.id);
  delete core.store.state.webhookEndpointSecrets?.[we.id];
  core.webhooks.removeEndpoint(we.id);
  return deletedWebhookEndpoint(we.id);
}

export const webhookEndpointRoutes: Route[] = [
  route('POST', '/v1/webhook_endpoints', createEndpoint),
  route('GET', '/v1/webhook_endpoints', ({ core, params }) => paginate(core, core.store.all(KIND), params, '/v1/webhook_endpoints')),
  route('GET', '/v1/webhook_endpoints/:id', ({ core, args, params }) => render(core, mustGet(core, KIND, args[0]!), params.expand())),
  route('POST', '/v1/webhook_endpoints/:id', updateEndpoint),
  route('DELETE', '/v1/webhook_endpoints/:id', deleteEndpoint),
];
