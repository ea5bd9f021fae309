// A case ended outside, in Stripe: its invoice voided or marked uncollectible, its subscription or
// customer deleted. The case closes with no more notices and no charge; a subscription Stripe itself
// canceled after its retries failed also tells the customer it has ended.
import type { Banners, CaseClaims, CaseQueries, Cases, Suppressions, Timeline } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { tellSubscriptionEndedByStripe } from './close.ts';
import type { Uses } from './deps.ts';
import { ignore, type IngestResult } from './ingest-result.ts';
import { parseInvoice, parseRef, type StripeEventEnvelope } from './invoice-event.ts';
import { CANCELED_IN_STRIPE, closeFromOutside } from './outside.ts';
import { pausedUntil } from './pause.ts';

const CANCELED_BY_STRIPE_RETRIES = 'subscription canceled by Stripe after its retries failed';

/** invoice.voided, invoice.marked_uncollectible: the invoice's own case closes, for `reason`. */
export async function closeInvoiceCase(deps: Uses<'clock' | 'log' | 'metrics', Cases & Banners & Timeline>, event: StripeEventEnvelope, reason: string): Promise<IngestResult> {
  const invoice = parseInvoice(event.data.object, event.id);
  const existing = await deps.store.getCase(invoice.id);
  return closeCases(deps, event, existing ? [existing] : [], reason);
}

/** customer.subscription.deleted: every case of the subscription closes. */
export async function subscriptionDeleted(deps: CloseCasesEndedByStripeDeps & { store: CaseQueries }, event: StripeEventEnvelope): Promise<IngestResult> {
  const subscription = parseRef(event, 'sub_');
  const cases = (await deps.store.listCasesOfCustomer(subscription.customer)).filter((c) => c.subscriptionId === subscription.id);
  if (canceledForFailedPayment(event)) return closeCasesEndedByStripe(deps, event, cases);
  return closeCases(deps, event, cases, CANCELED_IN_STRIPE);
}

/** customer.deleted: every case of the customer closes. */
export async function customerDeleted(deps: Uses<'clock' | 'log' | 'metrics', Cases & CaseQueries & Banners & Timeline>, event: StripeEventEnvelope): Promise<IngestResult> {
  const customer = parseRef(event, 'cus_');
  return closeCases(deps, event, await deps.store.listCasesOfCustomer(customer.id), 'customer deleted in Stripe');
}
/** Closes each of `cases` still open, for `reason`; ignored when none was. */
export async function closeCases(deps: Uses<'clock' | 'log' | 'metrics', Cases & Banners & Timeline>, event: StripeEventEnvelope, cases: DunningCase[], reason: string): Promise<IngestResult> {
  const closed: string[] = [];
  for (const c of cases) {
    if (await closeFromOutside(deps, c, reason)) closed.push(c.invoiceId);
  }
  if (closed.length === 0) return ignore(deps, event, `no open case to close (${reason})`);
  deps.log.info('cases closed from outside', { eventId: event.id, invoiceIds: closed, reason });
  return { action: 'case_closed', invoiceIds: closed, reason };
}

/**
 * Stripe cancelled the subscription because payment failed: its own end of retries, on an account
 * left on Stripe's default ("Manage failed payments": cancel the subscription). Its
 * `cancellation_details.reason` says so: `payment_failed`.
 */
function canceledForFailedPayment(event: StripeEventEnvelope): boolean {
  const details = (event.data.object as { cancellation_details?: { reason?: unknown } | null }).cancellation_details;
  return details?.reason === 'payment_failed';
}

/** What closeCasesEndedByStripe touches. */
type CloseCasesEndedByStripeDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics', Cases & CaseClaims & Banners & Suppressions & Timeline>;

/**
 * Stripe ended the subscription mid-policy for the same failed payment the case is about. The case
 * closes as any case ended outside does (no more notices, no charge), and the customer, told so far
 * that their subscription is at risk, is told it has ended (the policy's end email), once. A case
 * already closed because the subscription was seen canceled (a `customer.subscription.updated` read
 * first) is told too, and a redelivery after a failed send tries again.
 */
async function closeCasesEndedByStripe(deps: CloseCasesEndedByStripeDeps, event: StripeEventEnvelope, cases: DunningCase[]): Promise<IngestResult> {
  const closed: string[] = [];
  const told: string[] = [];
  const endedAt = new Date(event.created * 1000).toISOString();
  for (const c of cases) {
    const closedNow = await closeFromOutside(deps, c, CANCELED_BY_STRIPE_RETRIES);
    const current = closedNow ? await deps.store.getCase(c.invoiceId) : c;
    const endedHere = current?.status === 'closed' && (current.closedReason === CANCELED_BY_STRIPE_RETRIES || current.closedReason === CANCELED_IN_STRIPE);
    if (!current || !endedHere) continue;
    if (closedNow) closed.push(c.invoiceId);
    if (pausedUntil(current, deps.clock.now())) continue;
    await tellSubscriptionEndedByStripe(deps, current, endedAt);
    told.push(c.invoiceId);
  }
  if (closed.length === 0 && told.length === 0) return ignore(deps, event, `no open case to close (${CANCELED_BY_STRIPE_RETRIES})`);
  deps.log.info('cases closed: Stripe canceled the subscription after its retries', { eventId: event.id, invoiceIds: closed, told });
  return { action: 'case_closed', invoiceIds: closed.length > 0 ? closed : told, reason: CANCELED_BY_STRIPE_RETRIES };
}

