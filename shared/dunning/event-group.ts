// Which events must be routed one after another: those about one customer. A failed renewal, its
// payment and a new card of the same customer act on the same cases, so they are routed in the order
// Stripe delivered them; two customers never wait for each other.
import type { StripeEventEnvelope } from './invoice-event.ts';

/**
 * The customer an event is about (`cus_…`): the object itself when it is a customer, else its
 * `customer` (an id or an expanded object), else the customer it had before the change (a detached
 * payment method has none left). An event about no customer falls back to its object's id, so the
 * events of one object still keep their order; the event id would order nothing at all.
 */
export function eventGroupOf(event: StripeEventEnvelope): string {
  const object = event.data.object;
  if (object.object === 'customer' && typeof object.id === 'string') return object.id;
  const customer = idOf(object.customer) ?? idOf(event.data.previous_attributes?.customer);
  if (customer) return customer;
  return typeof object.id === 'string' && object.id !== '' ? object.id : event.id;
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  const id = (value as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
