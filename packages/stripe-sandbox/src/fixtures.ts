// Loads the committed Stripe fixture objects; builders clone one and overwrite every value
// so responses carry all of Stripe's fields with Stripe's types.
import { readFileSync } from 'node:fs';

type FixtureName =
  | 'billing_portal.session'
  | 'charge'
  | 'customer'
  | 'deleted_customer'
  | 'deleted_invoice'
  | 'deleted_invoiceitem'
  | 'deleted_test_helpers.test_clock'
  | 'event'
  | 'invoice'
  | 'invoice_payment'
  | 'invoiceitem'
  | 'line_item'
  | 'payment_intent'
  | 'payment_method'
  | 'plan'
  | 'price'
  | 'product'
  | 'subscription'
  | 'subscription_item'
  | 'test_helpers.test_clock'
  | 'webhook_endpoint'
  | 'deleted_webhook_endpoint';

/**
 * Stripe's fixture objects as committed, `{ resources: { <object type>: <object> } }`, parsed afresh
 * on each call: a host's own test data can start from the same objects the sandbox answers with.
 */
export function readStripeFixtures(): { resources: Record<string, unknown> } {
  return JSON.parse(readFileSync(new URL('./fixtures/stripe-fixtures.json', import.meta.url), 'utf8')) as {
    resources: Record<string, unknown>;
  };
}

const { resources } = readStripeFixtures();

export function fixture<T>(name: FixtureName): T {
  const value = resources[name];
  if (value === undefined) throw new Error(`missing Stripe fixture ${name}; rerun fixtures/extract.ts`);
  return structuredClone(value) as T;
}
