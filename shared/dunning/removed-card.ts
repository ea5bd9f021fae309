// The customer removed a card (payment_method.detached, or a default cleared on customer.updated):
// each unpaid case records it, and a detached card is blocked; nothing is charged.
import { PAYMENT_METHOD_DETACHED, type CardBlocks, type CaseQueries, type Cases, type Timeline } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { InvalidInputError } from '../domain/errors.ts';
import type { Uses } from './deps.ts';
import { ignore, type IngestResult } from './ingest-result.ts';
import type { StripeEventEnvelope } from './invoice-event.ts';
import { record } from './timeline.ts';

/** What cardRemoved touches. */
export type CardRemovedDeps = Uses<'clock' | 'log' | 'metrics', Cases & CaseQueries & CardBlocks & Timeline>;

/** payment_method.detached: the card has left its customer. */
export async function paymentMethodDetached(deps: CardRemovedDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  // data.object.customer is null, and the customer it left is in previous_attributes
  // (docs.stripe.com/api/events/types#event_types-payment_method.detached).
  const method = event.data.object as { id?: unknown };
  const customer = event.data.previous_attributes?.customer;
  if (typeof method.id !== 'string' || typeof customer !== 'string') {
    throw new InvalidInputError(`event ${event.id}: data is not a payment method detached from a customer`);
  }
  return cardRemoved(deps, event, customer, method.id, true);
}

/**
 * The customer removed a card. Nothing is charged: a removal is no new card. Each unpaid case of the
 * customer records it, and a detached card, which can never pay again
 * (docs.stripe.com/api/payment_methods/detach), is blocked on a case that has no other block, so no
 * charge of the case asks Stripe to take it (an invoice may still name it). The charges that follow
 * take the card Stripe would charge now, or find none and say so (`no_payment_method`).
 */
export async function cardRemoved(deps: CardRemovedDeps, event: StripeEventEnvelope, customerId: string, paymentMethod: string, detached: boolean): Promise<IngestResult> {
  const unpaid = (c: DunningCase | undefined): c is DunningCase => c?.status === 'open' || c?.status === 'needs_attention';
  const recorded: string[] = [];
  for (const entry of (await deps.store.listCasesOfCustomer(customerId)).filter(unpaid)) {
    // The customer index lags writes: only the case as it is now.
    const c = await deps.store.getCase(entry.invoiceId);
    if (!unpaid(c)) continue;
    const at = deps.clock.now().toISOString();
    // A block on another card stays: that card is still there, and still must not be charged.
    if (detached && !c.blockedPaymentMethod) await deps.store.blockPaymentMethod(c.invoiceId, { id: paymentMethod, code: PAYMENT_METHOD_DETACHED, at });
    await record(deps, c.invoiceId, 'card_removed', { at, detail: `${paymentMethod}: ${event.type}` });
    recorded.push(c.invoiceId);
  }
  if (recorded.length === 0) return ignore(deps, event, 'the customer has no open case');
  deps.log.info('card removed', { eventId: event.id, customerId, invoiceIds: recorded, detached });
  return { action: 'card_removed', paymentMethod, invoiceIds: recorded };
}
