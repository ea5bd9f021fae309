// Builds `billing_portal.session` objects whose `url` points at the sandbox's own portal page.
import type Stripe from 'stripe';
import { fixture } from '../fixtures.ts';
import { newId } from '../ids.ts';

/** The account's default portal configuration; Stripe creates one implicitly. */
export const DEFAULT_PORTAL_CONFIGURATION = 'bpc_1SandboxDefaultConfig0';

export function buildPortalSession(f: {
  created: number;
  customer: string;
  returnUrl: string | null;
  locale: string | null;
  flow: Stripe.BillingPortal.Session.Flow | null;
  baseUrl: string;
}): Stripe.BillingPortal.Session {
  const s = fixture<Stripe.BillingPortal.Session>('billing_portal.session');
  s.id = newId('bps');
  s.configuration = DEFAULT_PORTAL_CONFIGURATION;
  s.created = f.created;
  s.customer = f.customer;
  s.customer_account = null;
  s.flow = f.flow;
  s.livemode = false;
  s.locale = f.locale as Stripe.BillingPortal.Session['locale'];
  s.on_behalf_of = null;
  s.return_url = f.returnUrl;
  s.url = `${f.baseUrl}/p/session/${s.id}`;
  return s;
}
