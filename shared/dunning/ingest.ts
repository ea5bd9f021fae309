// Routes one verified Stripe event through ROUTES: each handled type (HANDLED_EVENT_TYPES, in
// handled-events.ts) names the use case that acts on it, each in its own file. An event of another
// type, or of the other mode (live or test), is acknowledged and ignored. Every event acted on is
// noted on the timeline of each case it touched.
import type { AccessRecords, Banners, CardBlocks, RetryLedger, CaseClaims, CaseQueries, Cases, Customers, HeadsUps, Invoices, Subscriptions, Suppressions, Timeline } from '../domain/ports.ts';
import type { Uses } from './deps.ts';
import { closeInvoiceCase, customerDeleted, subscriptionDeleted } from './ended-in-stripe.ts';
import type { HandledEventType } from './handled-events.ts';
import { ignore, type IngestResult } from './ingest-result.ts';
import { closePaidCase } from './invoice-paid.ts';
import type { StripeEventEnvelope } from './invoice-event.ts';
import { customerUpdated, paymentMethodAttached, setupIntentSucceeded } from './new-card.ts';
import { openCase } from './failed-renewal.ts';
import { askForAuthentication } from './payment-action-required.ts';
import { headsUpForExpiringSource, headsUpForUpcomingInvoice } from './pre-dunning.ts';
import { paymentMethodDetached } from './removed-card.ts';
import { cardRenewedByStripe } from './renewed-card.ts';
import { subscriptionUpdated } from './subscription-update.ts';
import { record } from './timeline.ts';

export type { IngestResult } from './ingest-result.ts';

export interface IngestOptions {
  /** Who sent the event again on purpose (the operator CLI's `replay`), rather than Stripe delivering it. */
  replayedBy?: 'operator';
}

/** What ingestStripeEvent touches. */
export type IngestStripeEventDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'caseClock' | 'log' | 'metrics' | 'workflow' | 'livemode', Cases & CaseQueries & CardBlocks & RetryLedger & CaseClaims & Banners & Suppressions & HeadsUps & AccessRecords & Timeline, Invoices & Subscriptions & Customers>;

/** What a use case the router dispatches to may touch: all it is given. */
type RouteDeps = Omit<IngestStripeEventDeps, 'livemode'>;

/** A use case for one event type. */
type Route = (deps: RouteDeps, event: StripeEventEnvelope) => Promise<IngestResult>;

/** Its name on webhook endpoints pinned to an API version before 2020-08-27. */
const LEGACY_CARD_AUTOMATICALLY_UPDATED = 'payment_method.card_automatically_updated';

/** Each handled event type, and the use case that acts on it. */
const ROUTES: Readonly<Record<HandledEventType | typeof LEGACY_CARD_AUTOMATICALLY_UPDATED, Route>> = {
  'invoice.payment_failed': openCase,
  'invoice.paid': closePaidCase,
  'invoice.payment_action_required': askForAuthentication,
  'invoice.voided': (deps, event) => closeInvoiceCase(deps, event, 'invoice voided in Stripe'),
  'invoice.marked_uncollectible': (deps, event) => closeInvoiceCase(deps, event, 'invoice marked uncollectible in Stripe'),
  'customer.subscription.updated': subscriptionUpdated,
  'customer.subscription.deleted': subscriptionDeleted,
  'customer.updated': customerUpdated,
  'payment_method.attached': paymentMethodAttached,
  'payment_method.detached': paymentMethodDetached,
  'setup_intent.succeeded': setupIntentSucceeded,
  'invoice.upcoming': headsUpForUpcomingInvoice,
  'customer.source.expiring': headsUpForExpiringSource,
  'payment_method.automatically_updated': cardRenewedByStripe,
  [LEGACY_CARD_AUTOMATICALLY_UPDATED]: cardRenewedByStripe,
  'customer.deleted': customerDeleted,
};

export async function ingestStripeEvent(deps: IngestStripeEventDeps, event: StripeEventEnvelope, options: IngestOptions = {}): Promise<IngestResult> {
  const receivedAt = deps.clock.now().toISOString();
  const result = await route(deps, event);
  // On each case the event acted on, a line saying which event it was: the operator's `case` view
  // shows what came in from Stripe beside what the product did about it. A replay is told apart, so
  // an event seen twice reads as an operator's act, not as Stripe delivering it again.
  const entry = options.replayedBy
    ? { type: 'event_replayed' as const, detail: `${event.type} (replayed by ${options.replayedBy})` }
    : { type: 'event_received' as const, detail: event.type };
  for (const invoiceId of casesActedOn(result)) {
    await record(deps, invoiceId, entry.type, { at: receivedAt, detail: entry.detail, eventId: event.id });
  }
  return result;
}

async function route(deps: IngestStripeEventDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  if (event.livemode !== deps.livemode) {
    // A test-mode event must never dun a live customer, nor the reverse.
    return ignore(deps, event, `livemode ${event.livemode} does not match this deployment's ${deps.livemode ? 'live' : 'test'} key`);
  }
  // Own keys only: an event type such as `constructor` is not handled.
  const useCase = Object.hasOwn(ROUTES, event.type) ? ROUTES[event.type as keyof typeof ROUTES] : undefined;
  if (!useCase) return ignore(deps, event, `event type ${event.type} is not handled`);
  return useCase(deps, event);
}

/** The cases a routing result touched; none for an ignored event. */
function casesActedOn(result: IngestResult): string[] {
  switch (result.action) {
    case 'ignored':
      return [];
    case 'card_update_retried':
      return result.outcomes.map((o) => o.invoiceId);
    case 'case_closed':
    case 'card_removed':
      return result.invoiceIds;
    case 'invoice_joined':
    case 'invoice_paid_partially':
      return [result.caseInvoiceId];
    default:
      return 'invoiceId' in result && typeof result.invoiceId === 'string' && result.invoiceId.startsWith('in_') ? [result.invoiceId] : [];
  }
}
