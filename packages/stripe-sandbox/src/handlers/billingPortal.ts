// /v1/billing_portal/sessions: short-lived links to the sandbox's own customer portal page.
import type Stripe from 'stripe';
import { render } from '../expand.ts';
import { invalidRequest, missingParam } from '../errors.ts';
import { liveCustomer } from '../lookup.ts';
import { buildPortalSession } from '../objects/portalSession.ts';
import type { Params } from '../params.ts';
import { route, type Ctx, type Route } from '../router.ts';
import { realNow } from '../time.ts';

/**
 * An unopened portal session expires five minutes after creation: Stripe's sessions "are
 * short-lived and will expire if the customer does not visit the URL"
 * (https://docs.stripe.com/api/customer_portal/sessions/object).
 */
export const PORTAL_SESSION_TTL_MS = 5 * 60 * 1000;

/**
 * Once opened, a session lives on while the customer uses it. Stripe publishes no figure for
 * this; the sandbox keeps an opened session an hour after the customer's last page.
 */
export const OPENED_PORTAL_SESSION_TTL_MS = 60 * 60 * 1000;

function readFlow(p: Params): Stripe.BillingPortal.Session.Flow | null {
  const flow = p.object('flow_data');
  if (!flow) return null;
  const type = flow.oneOf('type', ['payment_method_update', 'subscription_cancel', 'subscription_update', 'subscription_update_confirm'] as const);
  if (!type) throw missingParam('flow_data[type]');
  if (type !== 'payment_method_update') {
    throw invalidRequest(`This Stripe sandbox only implements flow_data[type]=payment_method_update, not ${type}.`, {
      param: 'flow_data[type]',
    });
  }
  const after = flow.object('after_completion');
  const afterType = after?.oneOf('type', ['hosted_confirmation', 'portal_homepage', 'redirect'] as const) ?? 'portal_homepage';
  if (after && !after.has('type')) throw missingParam('flow_data[after_completion][type]');
  let redirect: { return_url: string } | null = null;
  let confirmation: { custom_message: string | null } | null = null;
  if (afterType === 'redirect') {
    const url = after?.object('redirect')?.string('return_url');
    if (!url) throw missingParam('flow_data[after_completion][redirect][return_url]');
    redirect = { return_url: url };
  } else if (afterType === 'hosted_confirmation') {
    confirmation = { custom_message: after?.object('hosted_confirmation')?.string('custom_message') ?? null };
  }
  return {
    after_completion: { hosted_confirmation: confirmation, redirect, type: afterType },
    subscription_cancel: null,
    subscription_update: null,
    subscription_update_confirm: null,
    type,
  } as Stripe.BillingPortal.Session.Flow;
}

function createSession({ core, params: p }: Ctx): unknown {
  const customer = liveCustomer(core, p.requireString('customer'), 'customer');
  const flow = readFlow(p);
  const session = buildPortalSession({
    created: realNow(),
    customer: customer.id,
    returnUrl: p.string('return_url') ?? null,
    locale: p.string('locale') ?? null,
    flow,
    baseUrl: core.baseUrl,
  });
  core.store.put('portal_session', session);
  core.store.state.portalExpiresAtMs[session.id] = Date.now() + PORTAL_SESSION_TTL_MS;
  core.emit('billing_portal.session.created', session);
  return render(core, session, p.expand());
}

export const billingPortalRoutes: Route[] = [route('POST', '/v1/billing_portal/sessions', createSession)];
