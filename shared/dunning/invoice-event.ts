// Parses the parts of a Stripe event the product relies on (an invoice, or a subscription's or
// customer's id), and decides (purely) whether a failed invoice should open a dunning case.
import * as z from '../zod.ts';
import { InvalidInputError } from '../domain/errors.ts';

const idOrObject = z.union([z.string(), z.pipe(z.object({ id: z.string() }), z.transform((o) => o.id))]);

export const StripeInvoiceSchema = z.object({
  id: z.string().check(z.startsWith('in_')),
  object: z.literal('invoice'),
  status: z.nullable(z.string()),
  customer: idOrObject,
  customer_email: z.nullish(z.string()),
  customer_name: z.nullish(z.string()),
  collection_method: z.enum(['charge_automatically', 'send_invoice']),
  amount_due: z.int(),
  amount_remaining: z.optional(z.int()),
  currency: z.string(),
  number: z.nullish(z.string()),
  hosted_invoice_url: z.nullish(z.string()),
  attempt_count: z.optional(z.int()),
  livemode: z.boolean(),
  created: z.int(),
  billing_reason: z.nullish(z.string()),
  parent: z.nullish(
    z.object({
      subscription_details: z.nullish(z.object({ subscription: z.nullable(idOrObject) })),
    }),
  ),
  /** Legacy location of the subscription id, still sent to accounts on old API versions. */
  subscription: z.nullish(idOrObject),
});
export type StripeInvoice = z.infer<typeof StripeInvoiceSchema>;

export const StripeEventSchema = z.object({
  id: z.string().check(z.startsWith('evt_')),
  object: z.literal('event'),
  type: z.string(),
  created: z.int(),
  livemode: z.boolean(),
  /** The API request that caused the event, if any; our own calls carry keys starting "dunning:". */
  request: z.nullish(z.object({ id: z.nullish(z.string()), idempotency_key: z.nullish(z.string()) })),
  data: z.object({
    object: z.record(z.string(), z.unknown()),
    /** On *.updated events: the changed fields' values before the change. */
    previous_attributes: z.optional(z.record(z.string(), z.unknown())),
  }),
});
export type StripeEventEnvelope = z.infer<typeof StripeEventSchema>;

export function parseInvoice(object: unknown, eventId: string): StripeInvoice {
  const result = StripeInvoiceSchema.safeParse(object);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new InvalidInputError(
      `event ${eventId}: data.object is not a usable invoice (${first?.path.join('.') || 'object'}: ${first?.message})`,
    );
  }
  return result.data;
}

/** The id (and customer, for a subscription) of an event's object, validated. */
export function parseRef(event: StripeEventEnvelope, prefix: 'sub_' | 'cus_'): { id: string; customer: string } {
  const object = event.data.object as { id?: unknown; customer?: unknown };
  const id = typeof object.id === 'string' && object.id.startsWith(prefix) ? object.id : undefined;
  const customer = prefix === 'cus_' ? id : typeof object.customer === 'string' ? object.customer : (object.customer as { id?: string } | null)?.id;
  if (!id || !customer) throw new InvalidInputError(`event ${event.id}: data.object is not a ${prefix === 'sub_' ? 'subscription' : 'customer'} with an id`);
  return { id, customer };
}

export function subscriptionOf(invoice: StripeInvoice): string | undefined {
  return invoice.parent?.subscription_details?.subscription ?? invoice.subscription ?? undefined;
}

export type Eligibility = { eligible: true; subscriptionId: string } | { eligible: false; reason: string };

/** Only a subscription's automatic charge that failed and still has money due is dunned. */
export function dunningEligibility(invoice: StripeInvoice): Eligibility {
  const subscriptionId = subscriptionOf(invoice);
  if (!subscriptionId) return { eligible: false, reason: 'invoice has no subscription' };
  if (invoice.collection_method !== 'charge_automatically') {
    return { eligible: false, reason: `collection_method is ${invoice.collection_method}` };
  }
  if (invoice.amount_due <= 0) return { eligible: false, reason: 'nothing is due on the invoice' };
  if (invoice.status !== 'open') return { eligible: false, reason: `invoice status is ${invoice.status}` };
  return { eligible: true, subscriptionId };
}
