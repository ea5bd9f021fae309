// Builds `customer` and `deleted_customer` objects from Stripe's fixtures.
import type Stripe from 'stripe';
import { fixture } from '../fixtures.ts';
import { newId, upperHex } from '../ids.ts';

export interface CustomerFields {
  created: number;
  email: string | null;
  name: string | null;
  description: string | null;
  phone: string | null;
  metadata: Record<string, string>;
  preferredLocales: string[];
  testClock: string | null;
}

export function buildCustomer(f: CustomerFields): Stripe.Customer {
  const c = fixture<Stripe.Customer>('customer');
  c.id = newId('cus');
  c.address = null;
  c.balance = 0;
  c.created = f.created;
  // Stripe fills currency in on the customer's first invoice or subscription.
  c.currency = null;
  c.default_source = null;
  c.delinquent = false;
  c.description = f.description;
  c.discount = null;
  c.email = f.email;
  c.invoice_prefix = upperHex(8);
  c.invoice_settings = { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null };
  c.livemode = false;
  c.metadata = f.metadata;
  c.name = f.name;
  c.next_invoice_sequence = 1;
  c.phone = f.phone;
  c.preferred_locales = f.preferredLocales;
  c.shipping = null;
  c.tax_exempt = 'none';
  c.test_clock = f.testClock;
  return c;
}

export function deletedCustomer(id: string): Stripe.DeletedCustomer {
  const d = fixture<Stripe.DeletedCustomer>('deleted_customer');
  d.id = id;
  return d;
}
