// Builds `webhook_endpoint` objects (https://docs.stripe.com/api/webhook_endpoints/object), their
// signing secrets and their deleted form.
import type Stripe from 'stripe';
import { fixture } from '../fixtures.ts';
import { newId, randomAlnum } from '../ids.ts';

export function buildWebhookEndpoint(f: {
  created: number;
  url: string;
  enabledEvents: string[];
  description: string | null;
  metadata: Record<string, string>;
  apiVersion: string | null;
}): Stripe.WebhookEndpoint {
  const we = fixture<Stripe.WebhookEndpoint>('webhook_endpoint');
  we.id = newId('we');
  we.api_version = f.apiVersion;
  we.application = null;
  we.created = f.created;
  we.description = f.description;
  we.enabled_events = f.enabledEvents;
  we.livemode = false;
  we.metadata = f.metadata;
  we.status = 'enabled';
  we.url = f.url;
  return we;
}

/** A signing secret as Stripe makes them: `whsec_` and 32 letters and digits. */
export function newWebhookSecret(): string {
  return `whsec_${randomAlnum(32)}`;
}

export function deletedWebhookEndpoint(id: string): Stripe.DeletedWebhookEndpoint {
  const d = fixture<Stripe.DeletedWebhookEndpoint>('deleted_webhook_endpoint');
  d.id = id;
  d.deleted = true;
  return d;
}
