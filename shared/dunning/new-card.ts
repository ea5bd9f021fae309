// A new card for the customer (payment_method.attached, setup_intent.succeeded, or a changed
// default on customer.updated) answers a pre-dunning heads-up and is charged at once for each unpaid
// case (card-update.ts). A default cleared with none in its place is a removal (removed-card.ts).
import type { Banners, CardBlocks, RetryLedger, CaseClaims, CaseQueries, Cases, Customers, Invoices, Suppressions, Timeline } from '../domain/ports.ts';
import { PRE_DUNNING_STAGE } from '../domain/case.ts';
import { InvalidInputError } from '../domain/errors.ts';
import { chargeAfterCardUpdate } from './card-update.ts';
import type { Uses } from './deps.ts';
import { ignore, type IngestResult } from './ingest-result.ts';
import { parseRef, type StripeEventEnvelope } from './invoice-event.ts';
import { cardRemoved } from './removed-card.ts';

/** What cardUpdated touches. */
export type CardUpdatedDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'caseClock' | 'log' | 'metrics' | 'workflow', Cases & CaseQueries & CardBlocks & RetryLedger & CaseClaims & Banners & Suppressions & Timeline, Invoices & Customers>;

export async function cardUpdated(deps: CardUpdatedDeps, event: StripeEventEnvelope, customerId: string, paymentMethod?: string): Promise<IngestResult> {
  // A new card answers a pre-dunning heads-up: its banner has said what it had to.
  const banner = await deps.store.getBanner(customerId);
  if (banner?.stage === PRE_DUNNING_STAGE) await deps.store.clearBanner(customerId, banner.invoiceId);
  const outcomes = await chargeAfterCardUpdate(deps, event, customerId, paymentMethod);
  if (outcomes.length === 0) return ignore(deps, event, 'the customer has no open case');
  return { action: 'card_update_retried', outcomes };
}

/** customer.updated: only a change of the default payment method counts. */
export async function customerUpdated(deps: CardUpdatedDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const customer = parseRef(event, 'cus_');
  const before = event.data.previous_attributes?.invoice_settings as Record<string, unknown> | undefined;
  if (!before || !('default_payment_method' in before)) return ignore(deps, event, 'the default payment method did not change');
  // The default went and none took its place: the customer removed their card. Stripe says so
  // with payment_method.detached; should a customer.updated come, it is the same removal.
  const now = (event.data.object as { invoice_settings?: { default_payment_method?: unknown } }).invoice_settings?.default_payment_method;
  const removed = refId(before.default_payment_method);
  if ((now === null || now === undefined) && removed) return cardRemoved(deps, event, customer.id, removed, false);
  return cardUpdated(deps, event, customer.id);
}

/** payment_method.attached: the card attached is the new one. */
export async function paymentMethodAttached(deps: CardUpdatedDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const method = event.data.object as { id?: unknown; customer?: unknown };
  if (typeof method.customer !== 'string' || typeof method.id !== 'string') {
    throw new InvalidInputError(`event ${event.id}: data.object is not a payment method attached to a customer`);
  }
  return cardUpdated(deps, event, method.customer, method.id);
}

/** setup_intent.succeeded: the customer saved a card, the intent's payment method. */
export async function setupIntentSucceeded(deps: CardUpdatedDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const intent = event.data.object as { customer?: unknown; payment_method?: unknown };
  // A setup without a customer saves no card anyone could charge for a case.
  if (intent.customer === null) return ignore(deps, event, 'setup intent without a customer');
  if (typeof intent.customer !== 'string') throw new InvalidInputError(`event ${event.id}: data.object is not a setup intent`);
  return cardUpdated(deps, event, intent.customer, typeof intent.payment_method === 'string' ? intent.payment_method : undefined);
}

/** An expandable reference's id. */
function refId(ref: unknown): string | undefined {
  if (typeof ref === 'string') return ref;
  return ref && typeof ref === 'object' && typeof (ref as { id?: unknown }).id === 'string' ? (ref as { id: string }).id : undefined;
}
