// `dunning connect`: points Stripe at the target's webhook through Stripe's API, so no event type is
// missed by ticking boxes in the Dashboard, and stores the endpoint's signing secret where the
// webhook reads it. Idempotent: a second run changes nothing and says so. Never prints a secret.
//
// Stripe shows an endpoint's secret only in the answer that creates it (docs.stripe.com/api/
// webhook_endpoints/create: "The endpoint's secret, used to generate webhook signatures. Only
// returned at creation."), and an endpoint's api_version cannot be changed after. So an endpoint that
// must get a new secret (ours still holds the deploy's placeholder) or another API version is made
// anew, and the old one deleted once the new secret is stored.
import type Stripe from 'stripe';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { CliError } from './errors.ts';
import type { Print } from './commands.ts';

/** Where the webhook's signing secret is kept: read to tell a placeholder, written with a new endpoint's secret. */
export interface SigningSecretStore {
  /** Said in the output: the secret's ARN. */
  readonly name: string;
  read(): Promise<string | undefined>;
  write(value: string): Promise<void>;
}

export interface ConnectDeps {
  stripe: Stripe;
  /** The URL Stripe must post to: the stack's webhook Function URL, or the local runtime's /webhook. */
  webhookUrl: string;
  /** The API version the code is tested with: the one the SDK pins. */
  apiVersion: string;
  secret: SigningSecretStore;
  /** Names the endpoint in the Dashboard: "stripe-dunning: stack Dunning (eu-west-1)". */
  description: string;
}

/** A webhook signing secret as Stripe makes them; anything else (a generated placeholder, an empty string) is not one. */
export function isSigningSecret(value: string | undefined): boolean {
  return value !== undefined && /^whsec_[A-Za-z0-9+/=_-]{16,}$/.test(value.trim());
}

export interface ConnectResult {
  endpointId: string;
  /** What was done, one line each; empty when nothing had to change. */
  changes: string[];
}

export async function connect(deps: ConnectDeps, print: Print): Promise<ConnectResult> {
  const wanted: string[] = [...HANDLED_EVENT_TYPES].sort();
  const ours = (await listEndpoints(deps.stripe)).filter((endpoint) => sameUrl(endpoint.url, deps.webhookUrl));
  const stored = await deps.secret.read();
  const keep = ours.find((endpoint) => endpoint.api_version === deps.apiVersion);
  const changes: string[] = [];

  let endpoint: Stripe.WebhookEndpoint;
  if (keep && isSigningSecret(stored)) {
    endpoint = keep;
    const update: Stripe.WebhookEndpointUpdateParams = {};
    const current = [...keep.enabled_events].sort();
    if (current.join() !== wanted.join()) {
      update.enabled_events = wanted as Stripe.WebhookEndpointUpdateParams.EnabledEvent[];
      const added = wanted.filter((type) => !current.includes(type));
      const removed = current.filter((type) => !wanted.includes(type));
      changes.push(`updated ${keep.id}'s event types:${added.length ? ` +${added.join(' +')}` : ''}${removed.length ? ` -${removed.join(' -')}` : ''}`);
    }
    if (keep.status !== 'enabled') {
      update.disabled = false;
      changes.push(`enabled ${keep.id} (it was ${keep.status})`);
    }
    if (Object.keys(update).length > 0) endpoint = await deps.stripe.webhookEndpoints.update(keep.id, update);
  } else {
    endpoint = await deps.stripe.webhookEndpoints.create({
      url: deps.webhookUrl,
      enabled_events: wanted as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
      api_version: deps.apiVersion as Stripe.WebhookEndpointCreateParams.ApiVersion,
      description: deps.description,
    });
    if (!endpoint.secret) throw new CliError(`Stripe made webhook endpoint ${endpoint.id} but gave no signing secret; delete it in the Dashboard and run connect again`, 1);
    await deps.secret.write(endpoint.secret);
    const why = !keep && ours.length === 0 ? '' : !keep ? ` (the one there has API version ${ours[0]!.api_version ?? 'the account default'}, not ${deps.apiVersion})` : ' (the stored signing secret was not one of its own: Stripe shows a secret only when it makes the endpoint)';
    changes.push(`created webhook endpoint ${endpoint.id} for ${deps.webhookUrl}, API version ${deps.apiVersion}, ${wanted.length} event types${why}`);
    changes.push(`stored its signing secret in ${deps.secret.name}`);
  }
  // Any other endpoint at this URL would deliver every event twice, one set failing its signature.
  for (const other of ours.filter((candidate) => candidate.id !== endpoint.id)) {
    await deps.stripe.webhookEndpoints.del(other.id);
    changes.push(`deleted webhook endpoint ${other.id}, which pointed at the same URL`);
  }

  if (changes.length === 0) {
    print(`nothing to change: webhook endpoint ${endpoint.id} is enabled for ${deps.webhookUrl} with the ${wanted.length} event types, API version ${endpoint.api_version ?? deps.apiVersion}, and its signing secret is stored`);
  } else {
    for (const line of changes) print(line);
  }
  return { endpointId: endpoint.id, changes };
}

/** Every webhook endpoint of the account, across pages. */
export async function listEndpoints(stripe: Stripe): Promise<Stripe.WebhookEndpoint[]> {
  const all: Stripe.WebhookEndpoint[] = [];
  for await (const endpoint of stripe.webhookEndpoints.list({ limit: 100 })) all.push(endpoint);
  return all;
}

/** Stripe keeps the URL as given; a trailing slash or the host's case does not make another endpoint. */
export function sameUrl(a: string, b: string): boolean {
  const normal = (url: string) => {
    try {
      const parsed = new URL(url);
      return `${parsed.protocol}//${parsed.host.toLowerCase()}${parsed.pathname.replace(/\/+$/, '')}${parsed.search}`;
    } catch {
      return url;
    }
  };
  return normal(a) === normal(b);
}
