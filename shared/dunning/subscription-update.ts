// customer.subscription.updated: a hint to look at Stripe again. A subscription canceled there
// closes its cases; a case whose invoice Stripe holds as paid is recovered.
import type { Banners, CaseClaims, CaseQueries, Cases, Invoices, Subscriptions, Suppressions, Timeline } from '../domain/ports.ts';
import { recoverCase } from './close.ts';
import type { Uses } from './deps.ts';
import { closeCases } from './ended-in-stripe.ts';
import { CANCELED_IN_STRIPE } from './outside.ts';
import { ignore, type IngestResult } from './ingest-result.ts';
import { stopExecution } from './invoice-paid.ts';
import { parseRef, type StripeEventEnvelope } from './invoice-event.ts';
import { howPaid } from './paid-by.ts';

/** What subscriptionUpdated touches. */
export type SubscriptionUpdatedDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics' | 'workflow', Cases & CaseQueries & CaseClaims & Banners & Suppressions & Timeline, Invoices & Subscriptions>;

/**
 * Subscription updates arrive in any order, and a late one carries a stale status: so the event only
 * says "look again", and Stripe's current state decides. Canceled elsewhere closes the case (its
 * own `customer.subscription.deleted` may be lost); a case whose invoice Stripe holds as paid is
 * recovered (its `invoice.paid` may be late); anything else changes nothing.
 */
export async function subscriptionUpdated(deps: SubscriptionUpdatedDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const subscription = parseRef(event, 'sub_');
  const cases = (await deps.store.listCasesOfCustomer(subscription.customer)).filter(
    (c) => c.subscriptionId === subscription.id && (c.status === 'open' || c.status === 'needs_attention'),
  );
  if (cases.length === 0) return ignore(deps, event, 'no open case for this subscription');

  const status = await deps.stripe.getSubscriptionStatus(subscription.id);
  if (status === 'canceled' || status === 'incomplete_expired') {
    return closeCases(deps, event, cases, CANCELED_IN_STRIPE);
  }
  const recovered: string[] = [];
  for (const c of cases) {
    const invoice = await deps.stripe.getInvoice(c.invoiceId);
    if (invoice.status !== 'paid') continue;
    const result = await recoverCase(deps, c.invoiceId, howPaid(invoice));
    if (!result.closedNow) continue;
    await stopExecution(deps, c, `invoice ${c.invoiceId} paid (seen on ${event.id})`, event.type);
    recovered.push(c.invoiceId);
  }
  if (recovered.length > 0) {
    deps.log.info('case recovered: its invoice was paid, seen on a subscription update', { eventId: event.id, invoiceIds: recovered });
    return { action: 'case_recovered', invoiceId: recovered[0]! };
  }
  return ignore(deps, event, `subscription is ${status} in Stripe; its case goes on`);
}
