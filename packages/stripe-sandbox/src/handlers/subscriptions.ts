// /v1/subscriptions: create (first invoice charged at once), update (pause_collection,
// cancel_at_period_end, default payment method, items), cancel, list.
import type Stripe from 'stripe';
import { cancelSubscription, change } from '../billing/state.ts';
import { createSubscription, type PaymentBehavior } from '../billing/subscriptions.ts';
import { render } from '../expand.ts';
import { cardError, invalidRequest, missingParam, noPaymentMethod, subscriptionRequiresAction } from '../errors.ts';
import { createdFilter, paginate } from '../list.ts';
import { idOf, liveCustomer, mustGet } from '../lookup.ts';
import { buildPrice, planFromPrice } from '../objects/catalog.ts';
import { buildSubscriptionItem } from '../objects/subscription.ts';
import type { Params } from '../params.ts';
import { route, type Ctx, type Route } from '../router.ts';
import { realNow, type Interval } from '../time.ts';
import { chargeOutcome, ownedPaymentMethod } from '../wallet.ts';

const CANCELED_ONLY_METADATA = 'A canceled subscription can only update its cancellation_details and metadata.';
const INTERVALS: readonly Interval[] = ['day', 'week', 'month', 'year'];

function itemPrice(ctx: Ctx, item: Params, index: number): Stripe.Price {
  const { core } = ctx;
  const priceId = item.string('price');
  if (priceId) {
    const price = mustGet(core, 'price', priceId, `items[${index}][price]`);
    if (price.type !== 'recurring') {
      throw invalidRequest(
        'The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.',
        { param: `items[${index}][price]` },
      );
    }
    if (!price.active) {
      throw invalidRequest('The price specified is inactive. This field only accepts active prices.', { param: `items[${index}][price]` });
    }
    return price;
  }
  const data = item.object('price_data');
  if (!data) throw missingParam(`items[${index}][price]`);
  const productId = data.requireString('product');
  mustGet(core, 'product', productId, `items[${index}][price_data][product]`);
  const recurring = data.object('recurring');
  if (!recurring) throw missingParam(`items[${index}][price_data][recurring]`);
  const interval = recurring.oneOf('interval', INTERVALS);
  if (!interval) throw missingParam(`items[${index}][price_data][recurring][interval]`);
  // Inline prices exist only for this subscription, so Stripe creates them archived.
  const price = buildPrice({
    created: realNow(),
    product: productId,
    currency: data.requireString('currency').toLowerCase(),
    unitAmount: data.requireInt('unit_amount', { min: 0 }),
    recurring: { interval, intervalCount: recurring.int('interval_count', { min: 1 }) ?? 1 },
    nickname: null,
    lookupKey: null,
    metadata: {},
    active: false,
  });
  core.store.put('price', price);
  return price;
}

function productName(ctx: Ctx, price: Stripe.Price): string {
  return ctx.core.store.get('product', idOf(price.product as string)!)?.name ?? 'Product';
}

function createSub(ctx: Ctx): unknown {
  const { core, params: p } = ctx;
  const customer = liveCustomer(core, p.requireString('customer'), 'customer');
  const itemParams = p.array('items');
  if (!itemParams || itemParams.length === 0) throw missingParam('items');
  const items = itemParams.map((item, i) => {
    const price = itemPrice(ctx, item, i);
    return { price, productName: productName(ctx, price), quantity: item.int('quantity', { min: 0 }) ?? 1, metadata: item.metadata('metadata') ?? {} };
  });
  const first = items[0]!.price;
  for (const it of items) {
    if (it.price.currency !== first.currency || it.price.recurring?.interval !== first.recurring?.interval || it.price.recurring?.interval_count !== first.recurring?.interval_count) {
      throw invalidRequest('Currency and interval fields must match across all plans on a subscription.', { param: 'items' });
    }
  }
  const behaviour = p.oneOf('payment_behavior', ['allow_incomplete', 'error_if_incomplete', 'default_incomplete', 'pending_if_incomplete'] as const) ?? 'allow_incomplete';
  if (behaviour === 'pending_if_incomplete') {
    throw invalidRequest('`payment_behavior=pending_if_incomplete` is only supported when updating a subscription.', { param: 'payment_behavior' });
  }
  const collectionMethod = p.oneOf('collection_method', ['charge_automatically', 'send_invoice'] as const) ?? 'charge_automatically';
  const daysUntilDue = p.int('days_until_due', { min: 0 }) ?? null;
  if (collectionMethod === 'send_invoice' && daysUntilDue === null) throw missingParam('days_until_due');
  const now = core.nowForCustomer(customer.id);
  let trialEnd: number | null = null;
  const trialDays = p.int('trial_period_days', { min: 0 });
  if (trialDays) trialEnd = now + trialDays * 86_400;
  const trialEndParam = p.string('trial_end');
  if (trialEndParam && trialEndParam !== 'now') {
    trialEnd = p.int('trial_end')!;
    if (trialEnd <= now) throw invalidRequest('Invalid timestamp: must be an integer Unix timestamp in the future.', { param: 'trial_end' });
  }

  const dpmRef = p.string('default_payment_method');
  const dpm = dpmRef ? ownedPaymentMethod(core, dpmRef, customer, 'default_payment_method', new Map()).id : null;
  const amount = items.reduce((sum, it) => sum + (it.price.unit_amount ?? 0) * it.quantity, 0);
  if (collectionMethod === 'charge_automatically' && trialEnd === null && amount > 0 && behaviour !== 'default_incomplete') {
    const pmId = dpm ?? idOf(customer.invoice_settings.default_payment_method);
    if (!pmId) throw noPaymentMethod();
    const decline = chargeOutcome(core, pmId);
    if (decline?.requiresAction && behaviour === 'error_if_incomplete') throw subscriptionRequiresAction();
    if (decline && behaviour === 'error_if_incomplete') {
      // error_if_incomplete: a failed first payment means no subscription at all.
      throw cardError({ ...decline, payment_method: structuredClone(core.store.get('payment_method', pmId)) });
    }
  }

  const sub = createSubscription(core, {
    customer,
    items,
    defaultPaymentMethod: dpm,
    paymentBehavior: behaviour as PaymentBehavior,
    collectionMethod,
    daysUntilDue,
    description: p.string('description') ?? null,
    metadata: p.metadata('metadata') ?? {},
    cancelAtPeriodEnd: p.bool('cancel_at_period_end') ?? false,
    trialEnd,
  });
  return render(core, sub, p.expand());
}

function onlyMetadataAllowed(p: Params): void {
  const allowed = new Set(['metadata', 'cancellation_details', 'expand']);
  const other = Object.keys(p.raw).find((k) => !allowed.has(k));
  if (other) throw invalidRequest(CANCELED_ONLY_METADATA, { param: other });
}

function updateSub(ctx: Ctx): unknown {
  const { core, args, params: p } = ctx;
  const sub = mustGet(core, 'subscription', args[0]!);
  const ended = sub.status === 'canceled' || sub.status === 'incomplete_expired';
  if (ended) onlyMetadataAllowed(p);
  const customer = core.store.get('customer', idOf(sub.customer as string)!)!;
  const now = core.nowForCustomer(customer.id);
  const periodEnd = sub.items.data[0]?.current_period_end ?? now;

  let pause: Stripe.Subscription.PauseCollection | null | undefined;
  if (p.isEmpty('pause_collection')) pause = null;
  else {
    const pc = p.object('pause_collection');
    if (pc) {
      const behavior = pc.oneOf('behavior', ['keep_as_draft', 'mark_uncollectible', 'void'] as const);
      if (!behavior) throw missingParam('pause_collection[behavior]');
      pause = { behavior, resumes_at: pc.int('resumes_at') ?? null };
    }
  }
  let dpm: string | null | undefined;
  if (p.isEmpty('default_payment_method')) dpm = null;
  else {
    const ref = p.string('default_payment_method');
    if (ref) dpm = ownedPaymentMethod(core, ref, customer, 'default_payment_method', new Map()).id;
  }
  const cancelAtPeriodEnd = p.bool('cancel_at_period_end');
  const cancelAt = p.isEmpty('cancel_at') ? null : p.int('cancel_at');
  const metadata = p.metadata('metadata', sub.metadata);
  const description = p.isEmpty('description') ? null : p.string('description');
  const details = p.object('cancellation_details');
  const itemChanges = p.array('items')?.map((item, i) => {
    const id = item.string('id');
    const existing = id ? sub.items.data.find((si) => si.id === id) : undefined;
    if (id && !existing) throw invalidRequest(`No such subscription item: '${id}'`, { param: `items[${i}][id]`, code: 'resource_missing' });
    const price = item.has('price') || item.has('price_data') ? itemPrice(ctx, item, i) : undefined;
    if (!existing && !price) throw missingParam(`items[${i}][price]`);
    return { existing, price, quantity: item.int('quantity', { min: 0 }), deleted: item.bool('deleted') ?? false, metadata: item.metadata('metadata', existing?.metadata ?? {}) };
  });

  change(core, 'customer.subscription.updated', sub, (s) => {
    if (pause !== undefined) s.pause_collection = pause;
    if (dpm !== undefined) s.default_payment_method = dpm;
    if (cancelAtPeriodEnd !== undefined) {
      s.cancel_at_period_end = cancelAtPeriodEnd;
      s.cancel_at = cancelAtPeriodEnd ? periodEnd : null;
      s.canceled_at = cancelAtPeriodEnd ? now : null;
    }
    if (cancelAt !== undefined) {
      s.cancel_at = cancelAt;
      s.canceled_at = cancelAt === null ? null : now;
      if (cancelAt === null) s.cancel_at_period_end = false;
    }
    if (metadata !== undefined) s.metadata = metadata;
    if (description !== undefined) s.description = description;
    if (details) {
      const comment = details.isEmpty('comment') ? null : details.string('comment');
      const feedback = details.isEmpty('feedback') ? null : details.string('feedback');
      s.cancellation_details = {
        ...(s.cancellation_details ?? { reason: null, feedback_option: null, comment: null, feedback: null }),
        ...(comment !== undefined ? { comment } : {}),
        ...(feedback !== undefined ? { feedback: feedback as Stripe.Subscription.CancellationDetails.Feedback } : {}),
      };
    }
    // Item changes take effect from the next period: this sandbox does not prorate.
    for (const c of itemChanges ?? []) {
      if (c.existing && c.deleted) {
        s.items.data = s.items.data.filter((si) => si.id !== c.existing!.id);
      } else if (c.existing) {
        if (c.price) {
          c.existing.price = structuredClone(c.price);
          c.existing.plan = planFromPrice(c.price);
        }
        if (c.quantity !== undefined) c.existing.quantity = c.quantity;
        if (c.metadata !== undefined) c.existing.metadata = c.metadata;
      } else if (c.price) {
        const first = s.items.data[0];
        s.items.data.push(
          buildSubscriptionItem({
            subscription: s.id,
            created: now,
            price: c.price,
            quantity: c.quantity ?? 1,
            periodStart: first?.current_period_start ?? now,
            periodEnd: first?.current_period_end ?? periodEnd,
            metadata: c.metadata ?? {},
          }),
        );
      }
    }
    (s.items as unknown as Record<string, unknown>).total_count = s.items.data.length;
  });
  return render(core, sub, p.expand());
}

function cancelSub({ core, args, params: p }: Ctx): unknown {
  const sub = mustGet(core, 'subscription', args[0]!);
  if (sub.status === 'canceled' || sub.status === 'incomplete_expired') throw invalidRequest(CANCELED_ONLY_METADATA);
  const details = p.object('cancellation_details');
  if (details) {
    sub.cancellation_details = {
      ...(sub.cancellation_details ?? { reason: null, feedback_option: null, comment: null, feedback: null }),
      comment: details.string('comment') ?? sub.cancellation_details?.comment ?? null,
      feedback: (details.string('feedback') as Stripe.Subscription.CancellationDetails.Feedback | undefined) ?? sub.cancellation_details?.feedback ?? null,
    };
  }
  cancelSubscription(core, sub, core.nowForCustomer(idOf(sub.customer as string)), 'cancellation_requested', true);
  return render(core, sub, p.expand());
}

function listSubs({ core, params: p }: Ctx): unknown {
  const customer = p.string('customer');
  const price = p.string('price');
  const status = p.string('status');
  const clock = p.string('test_clock');
  const collection = p.string('collection_method');
  const created = createdFilter(p);
  const statusOk = (s: Stripe.Subscription): boolean => {
    if (status === 'all') return true;
    if (status === 'ended') return s.status === 'canceled' || s.status === 'incomplete_expired';
    if (status === undefined) return s.status !== 'canceled';
    return s.status === status;
  };
  const candidates = customer !== undefined ? core.store.where('subscription', 'customer', customer) : core.store.all('subscription');
  const items = candidates
    .filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (price === undefined || s.items.data.some((si) => si.price.id === price)) &&
        (clock === undefined || s.test_clock === clock) &&
        (collection === undefined || s.collection_method === collection) &&
        statusOk(s) &&
        created(s.created),
    );
  return paginate(core, items, p, '/v1/subscriptions');
}

export const subscriptionRoutes: Route[] = [
  route('POST', '/v1/subscriptions', createSub),
  route('GET', '/v1/subscriptions', listSubs),
  route('GET', '/v1/subscriptions/:id', ({ core, args, params }) => render(core, mustGet(core, 'subscription', args[0]!), params.expand())),
  route('POST', '/v1/subscriptions/:id', updateSub),
  route('DELETE', '/v1/subscriptions/:id', cancelSub),
  route('POST', '/v1/subscriptions/:id/resume', ({ core, args }) => {
    mustGet(core, 'subscription', args[0]!);
    // Only trials that end without a payment method pause a subscription; this sandbox never does.
    throw invalidRequest('Only subscriptions with status `paused` can be resumed.');
  }),
];
