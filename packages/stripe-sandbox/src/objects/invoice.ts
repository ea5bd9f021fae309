// Builds `invoice`, its `line_item`s and `invoiceitem`s. Current API shape: a subscription
// invoice names its subscription at `parent.subscription_details.subscription`; the legacy
// top-level `subscription` stays null.
import type Stripe from 'stripe';
import { fixture } from '../fixtures.ts';
import { newId } from '../ids.ts';

type Dec = NonNullable<Stripe.InvoiceLineItem.Pricing['unit_amount_decimal']>;
const dec = (n: number | string): Dec => String(n) as unknown as Dec;

const SYMBOLS: Record<string, string> = { usd: '$', eur: '€', gbp: '£', cad: 'CA$', aud: 'A$', jpy: '¥' };
const ZERO_DECIMAL = new Set(['jpy', 'krw', 'vnd', 'clp', 'xaf', 'xof']);

export function formatAmount(amount: number, currency: string): string {
  const major = ZERO_DECIMAL.has(currency) ? String(amount) : (amount / 100).toFixed(2);
  const symbol = SYMBOLS[currency];
  return symbol ? `${symbol}${major}` : `${major} ${currency.toUpperCase()}`;
}

export function buildInvoice(f: {
  customer: Stripe.Customer;
  created: number;
  currency: string;
  billingReason: Stripe.Invoice.BillingReason;
  collectionMethod: Stripe.Invoice.CollectionMethod;
  subscription: Stripe.Subscription | null;
  periodStart: number;
  periodEnd: number;
  autoAdvance: boolean;
  description: string | null;
  metadata: Record<string, string>;
  defaultPaymentMethod: string | null;
  daysUntilDue: number | null;
}): Stripe.Invoice {
  const inv = fixture<Stripe.Invoice>('invoice');
  const id = newId('in');
  inv.id = id;
  inv.account_country = 'US';
  inv.account_name = 'Stripe Sandbox';
  inv.account_tax_ids = null;
  inv.amount_due = 0;
  inv.amount_overpaid = 0;
  inv.amount_paid = 0;
  inv.amount_remaining = 0;
  inv.amount_shipping = 0;
  inv.application = null;
  inv.attempt_count = 0;
  inv.attempted = false;
  inv.auto_advance = f.autoAdvance;
  inv.automatic_tax = { disabled_reason: null, enabled: false, liability: null, provider: null, status: null };
  inv.automatically_finalizes_at = null;
  inv.billing_reason = f.billingReason;
  inv.collection_method = f.collectionMethod;
  inv.created = f.created;
  inv.currency = f.currency;
  inv.custom_fields = null;
  inv.customer = f.customer.id;
  inv.customer_account = null;
  inv.customer_address = null;
  inv.customer_email = f.customer.email ?? null;
  inv.customer_name = f.customer.name ?? null;
  inv.customer_phone = f.customer.phone ?? null;
  inv.customer_shipping = null;
  inv.customer_tax_exempt = 'none';
  inv.customer_tax_ids = [];
  inv.default_payment_method = f.defaultPaymentMethod;
  inv.default_source = null;
  inv.default_tax_rates = [];
  inv.description = f.description;
  inv.discounts = [];
  inv.due_date = null;
  inv.effective_at = null;
  inv.ending_balance = null;
  inv.footer = null;
  inv.from_invoice = null;
  inv.hosted_invoice_url = null;
  inv.invoice_pdf = null;
  inv.issuer = { type: 'self' };
  inv.last_finalization_error = null;
  inv.latest_revision = null;
  inv.lines = { object: 'list', data: [], has_more: false, url: `/v1/invoices/${id}/lines` } as Stripe.ApiList<Stripe.InvoiceLineItem>;
  (inv.lines as unknown as Record<string, unknown>).total_count = 0;
  inv.livemode = false;
  inv.metadata = f.metadata;
  inv.next_payment_attempt = null;
  inv.number = null;
  inv.on_behalf_of = null;
  inv.parent = f.subscription
    ? {
        quote_details: null,
        subscription_details: { metadata: structuredClone(f.subscription.metadata), subscription: f.subscription.id },
        type: 'subscription_details',
      }
    : null;
  inv.payment_settings = { default_mandate: null, payment_method_options: null, payment_method_types: null };
  inv.period_end = f.periodEnd;
  inv.period_start = f.periodStart;
  inv.post_payment_credit_notes_amount = 0;
  inv.pre_payment_credit_notes_amount = 0;
  inv.receipt_number = null;
  inv.rendering = { amount_tax_display: null, pdf: { page_size: 'auto' }, template: null, template_version: null };
  inv.shipping_cost = null;
  inv.shipping_details = null;
  inv.starting_balance = 0;
  inv.statement_descriptor = null;
  inv.status = 'draft';
  inv.status_transitions = { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null };
  (inv as unknown as Record<string, unknown>).subscription = null;
  inv.subtotal = 0;
  inv.subtotal_excluding_tax = 0;
  inv.test_clock = f.customer.test_clock ?? null;
  inv.total = 0;
  inv.total_discount_amounts = [];
  inv.total_excluding_tax = 0;
  inv.total_pretax_credit_amounts = [];
  inv.total_taxes = [];
  // Stripe stamps this at creation when no webhook has to be waited on before finalizing.
  inv.webhooks_delivered_at = f.created;
  return inv;
}

/** Replaces the invoice's lines and recomputes the totals that follow from them. */
export function setInvoiceLines(inv: Stripe.Invoice, lines: Stripe.InvoiceLineItem[]): void {
  inv.lines.data = lines;
  (inv.lines as unknown as Record<string, unknown>).total_count = lines.length;
  const total = lines.reduce((sum, l) => sum + l.amount, 0);
  inv.subtotal = total;
  inv.subtotal_excluding_tax = total;
  inv.total = total;
  inv.total_excluding_tax = total;
  inv.amount_due = total;
  inv.amount_remaining = total - inv.amount_paid;
}

function baseLine(invoiceId: string, currency: string): Stripe.InvoiceLineItem {
  const line = fixture<Stripe.InvoiceLineItem>('line_item');
  line.id = newId('il');
  line.currency = currency;
  line.discount_amounts = [];
  line.discountable = true;
  line.discounts = [];
  line.invoice = invoiceId;
  line.livemode = false;
  line.metadata = {};
  line.pretax_credit_amounts = [];
  line.taxes = [];
  return line;
}

export function buildSubscriptionLine(f: {
  invoiceId: string;
  subscription: Stripe.Subscription;
  item: Stripe.SubscriptionItem;
  productName: string;
  periodStart: number;
  periodEnd: number;
}): Stripe.InvoiceLineItem {
  const price = f.item.price;
  const quantity = f.item.quantity ?? 1;
  const unit = price.unit_amount ?? 0;
  const line = baseLine(f.invoiceId, price.currency);
  const every = price.recurring
    ? price.recurring.interval_count === 1
      ? price.recurring.interval
      : `every ${price.recurring.interval_count} ${price.recurring.interval}s`
    : '';
  line.amount = unit * quantity;
  line.description = `${quantity} × ${f.productName} (at ${formatAmount(unit, price.currency)}${every ? ` / ${every}` : ''})`;
  line.metadata = structuredClone(f.subscription.metadata);
  line.parent = {
    invoice_item_details: null,
    subscription_item_details: {
      invoice_item: null,
      proration: false,
      proration_details: { credited_items: null },
      subscription: f.subscription.id,
      subscription_item: f.item.id,
    },
    type: 'subscription_item_details',
  };
  line.period = { start: f.periodStart, end: f.periodEnd };
  line.pricing = {
    price_details: { price: price.id, product: typeof price.product === 'string' ? price.product : price.product.id },
    type: 'price_details',
    unit_amount_decimal: dec(unit),
  };
  line.quantity = quantity;
  line.quantity_decimal = dec(quantity);
  line.subscription = f.subscription.id;
  line.subtotal = line.amount;
  return line;
}

export function buildInvoiceItem(f: {
  customer: Stripe.Customer;
  date: number;
  currency: string;
  unitAmount: number;
  quantity: number;
  description: string | null;
  price: Stripe.Price | null;
  invoice: string | null;
  subscription: string | null;
  metadata: Record<string, string>;
}): Stripe.InvoiceItem {
  const ii = fixture<Stripe.InvoiceItem>('invoiceitem');
  ii.id = newId('ii');
  ii.amount = f.unitAmount * f.quantity;
  ii.currency = f.currency;
  ii.customer = f.customer.id;
  ii.customer_account = null;
  ii.date = f.date;
  ii.description = f.description;
  ii.discountable = true;
  ii.discounts = [];
  ii.invoice = f.invoice;
  ii.livemode = false;
  ii.metadata = f.metadata;
  ii.net_amount = ii.amount;
  ii.parent = f.subscription
    ? { subscription_details: { subscription: f.subscription }, type: 'subscription_details' } as Stripe.InvoiceItem.Parent
    : null;
  ii.period = { start: f.date, end: f.date };
  ii.pricing = {
    price_details: f.price
      ? { price: f.price.id, product: typeof f.price.product === 'string' ? f.price.product : f.price.product.id }
      : undefined,
    type: 'price_details',
    unit_amount_decimal: dec(f.unitAmount),
  } as Stripe.InvoiceItem.Pricing;
  if (!f.price) delete (ii.pricing as { price_details?: unknown }).price_details;
  ii.proration = false;
  ii.quantity = f.quantity;
  ii.quantity_decimal = dec(f.quantity) as unknown as Stripe.InvoiceItem['quantity_decimal'];
  ii.tax_rates = [];
  ii.test_clock = f.customer.test_clock ?? null;
  return ii;
}

export function buildInvoiceItemLine(ii: Stripe.InvoiceItem, invoiceId: string): Stripe.InvoiceLineItem {
  const line = baseLine(invoiceId, ii.currency);
  line.amount = ii.amount;
  line.description = ii.description;
  line.metadata = structuredClone(ii.metadata ?? {});
  line.parent = {
    invoice_item_details: {
      invoice_item: ii.id,
      proration: false,
      proration_details: { credited_items: null },
      subscription: ii.parent?.subscription_details?.subscription ?? null,
    },
    subscription_item_details: null,
    type: 'invoice_item_details',
  } as Stripe.InvoiceLineItem.Parent;
  line.period = { start: ii.period.start, end: ii.period.end };
  line.pricing = structuredClone(ii.pricing) as Stripe.InvoiceLineItem.Pricing;
  line.quantity = ii.quantity;
  line.quantity_decimal = dec(ii.quantity);
  line.subscription = ii.parent?.subscription_details?.subscription ?? null;
  line.subtotal = ii.amount;
  return line;
}
