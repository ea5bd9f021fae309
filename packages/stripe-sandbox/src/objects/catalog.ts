// Builds `product`, `price` and the legacy `plan` mirror of a recurring price.
import type Stripe from 'stripe';
import { fixture } from '../fixtures.ts';
import { newId } from '../ids.ts';
import type { Interval } from '../time.ts';

export function buildProduct(f: {
  created: number;
  name: string;
  description: string | null;
  metadata: Record<string, string>;
  active: boolean;
}): Stripe.Product {
  const p = fixture<Stripe.Product>('product');
  p.id = newId('prod');
  p.active = f.active;
  p.created = f.created;
  p.default_price = null;
  p.description = f.description;
  p.images = [];
  p.livemode = false;
  p.marketing_features = [];
  p.metadata = f.metadata;
  p.name = f.name;
  p.package_dimensions = null;
  p.shippable = null;
  p.statement_descriptor = null;
  p.tax_code = null;
  p.unit_label = null;
  p.updated = f.created;
  p.url = null;
  (p as unknown as Record<string, unknown>).type = 'service';
  return p;
}

export function buildPrice(f: {
  created: number;
  product: string;
  currency: string;
  unitAmount: number;
  recurring: { interval: Interval; intervalCount: number } | null;
  nickname: string | null;
  lookupKey: string | null;
  metadata: Record<string, string>;
  active: boolean;
}): Stripe.Price {
  const p = fixture<Stripe.Price>('price');
  p.id = newId('price');
  p.active = f.active;
  p.billing_scheme = 'per_unit';
  p.created = f.created;
  p.currency = f.currency;
  p.custom_unit_amount = null;
  p.livemode = false;
  p.lookup_key = f.lookupKey;
  p.metadata = f.metadata;
  p.nickname = f.nickname;
  p.product = f.product;
  p.recurring = f.recurring
    ? { interval: f.recurring.interval, interval_count: f.recurring.intervalCount, meter: null, usage_type: 'licensed', trial_period_days: null }
    : null;
  p.tax_behavior = 'unspecified';
  p.tiers_mode = null;
  p.transform_quantity = null;
  p.type = f.recurring ? 'recurring' : 'one_time';
  p.unit_amount = f.unitAmount;
  p.unit_amount_decimal = String(f.unitAmount) as unknown as Stripe.Price['unit_amount_decimal'];
  return p;
}

/** Subscription items still carry `plan`, Stripe's pre-Prices view of the same recurring price. */
export function planFromPrice(price: Stripe.Price): Stripe.Plan {
  const plan = fixture<Stripe.Plan>('plan');
  plan.id = price.id;
  plan.active = price.active;
  plan.amount = price.unit_amount;
  plan.amount_decimal = price.unit_amount_decimal as unknown as Stripe.Plan['amount_decimal'];
  plan.billing_scheme = 'per_unit';
  plan.created = price.created;
  plan.currency = price.currency;
  plan.interval = price.recurring?.interval ?? 'month';
  plan.interval_count = price.recurring?.interval_count ?? 1;
  plan.livemode = false;
  plan.metadata = price.metadata;
  plan.meter = null;
  plan.nickname = price.nickname;
  plan.product = price.product;
  plan.tiers_mode = null;
  plan.transform_usage = null;
  plan.trial_period_days = null;
  plan.usage_type = 'licensed';
  return plan;
}
