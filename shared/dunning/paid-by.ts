// How a paid invoice was paid, for the case's record and the RecoveredBy metric. Pure: decided
// from the invoice as Stripe holds it and, when an event announced the payment, that event's request.
import type { RecoveredBy } from '../domain/case.ts';
import type { InvoiceSnapshot } from '../domain/ports.ts';

/** The `request` of a Stripe event: which API call caused it, if any. */
export interface EventRequest {
  id?: string | null;
  idempotency_key?: string | null;
}

/**
 * - `out_of_band`: marked paid outside Stripe (or settled by a credit balance): no card moved money.
 * - our own idempotency keys: `card_updated` for the charge after a new card, else `workflow_retry`.
 * - no request: Stripe did it by itself, i.e. its automatic retry (`stripe_retry`).
 * - a request that is not ours: someone paid through Stripe's API, which is the customer on the
 *   hosted invoice page, or a person charging the invoice from the Dashboard (`customer_payment`).
 * - no event at all (a stage found the invoice paid before its webhook arrived): `invoice_paid`,
 *   refined when the webhook comes.
 */
export function howPaid(invoice: Pick<InvoiceSnapshot, 'paidOffStripe'>, request?: EventRequest | null): RecoveredBy {
  if (invoice.paidOffStripe) return 'out_of_band';
  if (request === undefined) return 'invoice_paid';
  const key = request?.idempotency_key ?? '';
  if (key.startsWith('dunning:')) return key.includes(':card-updated:') ? 'card_updated' : 'workflow_retry';
  if (!request?.id) return 'stripe_retry';
  return 'customer_payment';
}
