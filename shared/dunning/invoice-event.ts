// Parses the parts of a Stripe invoice event the product relies on, and decides (purely) whether
// a failed invoice should open a dunning case.
import { z } from 'zod';
import { InvalidInputError } from '../domain/errors.ts';

const idOrObject = z.union([z.string(), z.object({ id: z.string() }).transform((o) => o.id)]);

export const StripeInvoiceSchema = z.object({
  id: z.string().startsWith('in_'),
  object: z.literal('invoice'),
  status: z.string().nullable(),
  customer: idOrObject,
  customer_email: z.string().nullable().optional(),
  customer_name: z.string().nullable().optional(),
  collection_method: z.enum(['charge_automatically', 'send_invoice']),
  amount_due: z.number().int(),
  amount_remaining: z.number().int().optional(),
  currency: z.string(),
  number: z.string().nullable().optional(),
  hosted_invoice_url: z.string().nullable().optional(),
  attempt_count: z.number().int().optional(),
  livemode: z.boolean(),
  created: z.number().int(),
  billing_reason: z.string().nullable().optional(),
  parent: z
    .object({
      subscription_details: z.object({ subscription: idOrObject.nullable() }).nullable().optional(),
    })
    .nullable()
    .optional(),
  /** Legacy location of the subscription id, still sent to accounts on old API versions. */
  subscription: idOrObject.nullable().optional(),
});
export type StripeInvoice = z.infer<typeof StripeInvoiceSchema>;

export const StripeEventSchema = z.object({
  id: z.string().startsWith('evt_'),
  object: z.literal('event'),
  type: z.string(),
  created: z.number().int(),
  livemode: z.boolean(),
  /** The API request that caused the event, if any; our own calls carry keys starting "dunning:". */
  request: z.object({ id: z.string().nullable().optional(), idempotency_key: z.string().nullable().optional() }).nullable().optional(),
  data: z.object({
    object: z.record(z.string(), z.unknown()),
    /** On *.updated events: the changed fields' values before the change. */
    previous_attributes: z.record(z.string(), z.unknown()).optional(),
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
