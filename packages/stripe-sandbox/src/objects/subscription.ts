// Builds `subscription` and `subscription_item` objects. In the current API the billing period
// lives on each item (`items.data[].current_period_start/end`), not on the subscription.
import type Stripe from 'stripe';
import { fixture } from '../fixtures.ts';
import { newId } from '../ids.ts';
import { planFromPrice } from './catalog.ts';

export function buildSubscriptionItem(f: {
  subscription: string;
  created: number;
  price: Stripe.Price;
  quantity: number;
  periodStart: number;
  periodEnd: number;
  metadata: Record<string, string>;
}): Stripe.SubscriptionItem {
  const si = fixture<Stripe.SubscriptionItem>('subscription_item');
  si.id = newId('si');
  si.billing_thresholds = null;
  si.created = f.created;
  si.current_period_start = f.periodStart;
  si.current_period_end = f.periodEnd;
  si.discounts = [];
  si.metadata = f.metadata;
  si.plan = planFromPrice(f.price);
  si.price = structuredClone(f.price);
  si.quantity = f.quantity;
  si.subscription = f.subscription;
  si.tax_rates = [];
  return si;
}

export function buildSubscription(f: {
  id: string;
  customer: string;
  created: number;
  currency: string;
  items: Stripe.SubscriptionItem[];
  defaultPaymentMethod: string | null;
  collectionMethod: Stripe.Subscription.CollectionMethod;
  daysUntilDue: number | null;
  description: string | null;
  metadata: Record<string, string>;
  testClock: string | null;
}): Stripe.Subscription {
  const s = fixture<Stripe.Subscription>('subscription');
  s.id = f.id;
  s.application = null;
  s.application_fee_percent = null;
  s.automatic_tax = { disabled_reason: null, enabled: false, liability: null };
  s.billing_cycle_anchor = f.created;
  s.billing_cycle_anchor_config = null;
  s.billing_mode = { type: 'classic' } as Stripe.Subscription.BillingMode;
  s.billing_schedules = [];
  s.billing_thresholds = null;
  s.cancel_at = null;
  s.cancel_at_period_end = false;
  s.canceled_at = null;
  s.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason: null };
  s.collection_method = f.collectionMethod;
  s.created = f.created;
  s.currency = f.currency;
  s.customer = f.customer;
  s.customer_account = null;
  s.days_until_due = f.daysUntilDue;
  s.default_payment_method = f.defaultPaymentMethod;
  s.default_source = null;
  s.default_tax_rates = [];
  s.description = f.description;
  s.discounts = [];
  s.ended_at = null;
  s.invoice_settings = { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } };
  s.items = {
    object: 'list',
    data: f.items,
    has_more: false,
    url: `/v1/subscription_items?subscription=${f.id}`,
  } as Stripe.ApiList<Stripe.SubscriptionItem>;
  (s.items as unknown as Record<string, unknown>).total_count = f.items.length;
  s.latest_invoice = null;
  s.livemode = false;
  s.managed_payments = null;
  s.metadata = f.metadata;
  s.next_pending_invoice_item_invoice = null;
  s.on_behalf_of = null;
  s.pause_collection = null;
  s.payment_settings = { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' };
  s.pending_invoice_item_interval = null;
  s.pending_setup_intent = null;
  s.pending_update = null;
  s.schedule = null;
  s.start_date = f.created;
  s.status = 'incomplete';
  s.test_clock = f.testClock;
  s.transfer_data = null;
  s.trial_end = null;
  s.trial_settings = { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' } };
  s.trial_start = null;
  return s;
}
