// /v1/customers and /v1/payment_methods: customers, their saved cards and default payment method.
import type Stripe from 'stripe';
import { cancelSubscription, change } from '../billing/state.ts';
import { render } from '../expand.ts';
import { invalidRequest, resourceMissing } from '../errors.ts';
import { createdFilter, paginate } from '../list.ts';
import { idOf, liveCustomer, mustGet } from '../lookup.ts';
import { buildCustomer, deletedCustomer } from '../objects/customer.ts';
import type { Params } from '../params.ts';
import { route, type Ctx, type Route } from '../router.ts';
import { realNow } from '../time.ts';
import { attach, detach, ownedPaymentMethod, paymentMethodRef, type TokenCache } from '../wallet.ts';

function nullableString(p: Params, key: string): string | null | undefined {
  if (p.isEmpty(key)) return null;
  return p.string(key);
}

function createCustomer({ core, params: p }: Ctx): unknown {
  const email = p.string('email') ?? null;
  const name = p.string('name') ?? null;
  const description = p.string('description') ?? null;
  const phone = p.string('phone') ?? null;
  const metadata = p.metadata('metadata') ?? {};
  const preferredLocales = p.stringArray('preferred_locales') ?? [];
  const clockId = p.string('test_clock') || null;
  const clock = clockId ? mustGet(core, 'test_clock', clockId, 'test_clock') : undefined;
  const pmRef = p.string('payment_method') || null;
  const defaultRef = p.object('invoice_settings')?.string('default_payment_method') || null;

  const cache: TokenCache = new Map();
  const created = clock ? clock.frozen_time : realNow();
  const toAttach: Stripe.PaymentMethod[] = [];
  if (pmRef) {
    const pm = paymentMethodRef(core, pmRef, 'payment_method', cache, created);
    if (pm.customer) {
      throw invalidRequest('The payment method you provided has already been attached to a customer.', {
        param: 'payment_method',
        code: 'payment_method_unexpected_state',
      });
    }
    toAttach.push(pm);
  }
  let defaultPm: Stripe.PaymentMethod | undefined;
  if (defaultRef) {
    const existing = core.store.get('payment_method', defaultRef);
    if (existing && !toAttach.includes(existing)) {
      throw invalidRequest(
        `The customer does not have a payment method with the ID ${defaultRef}. The payment method must be attached to the customer.`,
        { param: 'invoice_settings[default_payment_method]' },
      );
    }
    defaultPm = paymentMethodRef(core, defaultRef, 'invoice_settings[default_payment_method]', cache, created);
    if (!toAttach.includes(defaultPm)) toAttach.push(defaultPm);
  }

  const customer = buildCustomer({ created, email, name, description, phone, metadata, preferredLocales, testClock: clock?.id ?? null });
  if (defaultPm) customer.invoice_settings.default_payment_method = defaultPm.id;
  core.store.put('customer', customer);
  core.emit('customer.created', customer);
  for (const pm of toAttach) attach(core, pm, customer);
  return render(core, customer, p.expand());
}

function retrieveCustomer({ core, args, params }: Ctx): unknown {
  const id = args[0]!;
  if (core.store.isDeletedCustomer(id)) return deletedCustomer(id);
  return render(core, mustGet(core, 'customer', id), params.expand());
}

function updateCustomer({ core, args, params: p }: Ctx): unknown {
  const customer = liveCustomer(core, args[0]!);
  const settings = p.object('invoice_settings');
  let defaultPm: string | null | undefined;
  if (settings?.isEmpty('default_payment_method')) defaultPm = null;
  else {
    const ref = settings?.string('default_payment_method');
    if (ref) defaultPm = ownedPaymentMethod(core, ref, customer, 'invoice_settings[default_payment_method]', new Map()).id;
  }
  const email = nullableString(p, 'email');
  const name = nullableString(p, 'name');
  const description = nullableString(p, 'description');
  const phone = nullableString(p, 'phone');
  const metadata = p.metadata('metadata', customer.metadata);
  const locales = p.isEmpty('preferred_locales') ? [] : p.stringArray('preferred_locales');
  change(core, 'customer.updated', customer, (c) => {
    if (email !== undefined) c.email = email;
    if (name !== undefined) c.name = name;
    if (description !== undefined) c.description = description;
    if (phone !== undefined) c.phone = phone;
    if (metadata !== undefined) c.metadata = metadata;
    if (locales !== undefined) c.preferred_locales = locales;
    if (defaultPm !== undefined) c.invoice_settings.default_payment_method = defaultPm;
  });
  return render(core, customer, p.expand());
}

function deleteCustomer({ core, args }: Ctx): unknown {
  const customer = liveCustomer(core, args[0]!);
  const now = core.nowForCustomer(customer.id);
  // Deleting a customer cancels their subscriptions immediately.
  for (const sub of core.store.where('subscription', 'customer', customer.id)) {
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') continue;
    cancelSubscription(core, sub, now, 'cancellation_requested', true);
  }
  core.store.state.deletedCustomers[customer.id] = now;
  core.emit('customer.deleted', customer);
  return deletedCustomer(customer.id);
}

function listCustomers({ core, params: p }: Ctx): unknown {
  const email = p.string('email');
  const clock = p.string('test_clock');
  const created = createdFilter(p);
  const items = core.store
    .all('customer')
    .filter((c) => !core.store.isDeletedCustomer(c.id))
    .filter((c) => (email === undefined || c.email === email) && (clock === undefined || c.test_clock === clock) && created(c.created));
  return paginate(core, items, p, '/v1/customers');
}

function paymentMethodsOf(core: Ctx['core'], customerId: string, type: string | undefined): Stripe.PaymentMethod[] {
  return core.store.where('payment_method', 'customer', customerId).filter((pm) => type === undefined || pm.type === type);
}

function listCustomerPaymentMethods({ core, args, params: p }: Ctx): unknown {
  const customer = liveCustomer(core, args[0]!);
  return paginate(core, paymentMethodsOf(core, customer.id, p.string('type')), p, `/v1/customers/${customer.id}/payment_methods`);
}

function retrieveCustomerPaymentMethod({ core, args, params }: Ctx): unknown {
  const customer = liveCustomer(core, args[0]!);
  const pm = mustGet(core, 'payment_method', args[1]!);
  if (pm.customer !== customer.id) throw resourceMissing('PaymentMethod', pm.id);
  return render(core, pm, params.expand());
}

function retrievePaymentMethod({ core, args, params }: Ctx): unknown {
  return render(core, paymentMethodRef(core, args[0]!, 'id'), params.expand());
}

function listPaymentMethods({ core, params: p }: Ctx): unknown {
  const customerId = p.string('customer');
  if (customerId) liveCustomer(core, customerId, 'customer');
  const type = p.string('type');
  const items = customerId
    ? paymentMethodsOf(core, customerId, type)
    : core.store.all('payment_method').filter((pm) => pm.customer !== null && (type === undefined || pm.type === type));
  return paginate(core, items, p, '/v1/payment_methods');
}

function attachPaymentMethod({ core, args, params: p }: Ctx): unknown {
  const customer = liveCustomer(core, p.requireString('customer'), 'customer');
  const pm = paymentMethodRef(core, args[0]!, 'id', undefined, core.nowForCustomer(customer.id));
  attach(core, pm, customer);
  return render(core, pm, p.expand());
}

function detachPaymentMethod({ core, args, params }: Ctx): unknown {
  const pm = mustGet(core, 'payment_method', args[0]!);
  detach(core, pm);
  return render(core, pm, params.expand());
}

function updatePaymentMethod({ core, args, params: p }: Ctx): unknown {
  const pm = mustGet(core, 'payment_method', args[0]!);
  const metadata = p.metadata('metadata', pm.metadata ?? {});
  // Stripe lets a card's expiry be corrected on the payment method (e.g. the customer renewed it).
  const card = p.object('card');
  const expMonth = card?.int('exp_month', { min: 1, max: 12 });
  const expYear = card?.int('exp_year', { min: 2000, max: 2100 });
  if (card && !pm.card) throw invalidRequest('You can only update the card details of a card payment method.', { param: 'card' });
  change(core, 'payment_method.updated', pm, (m) => {
    if (metadata !== undefined) m.metadata = metadata;
    if (m.card && expMonth !== undefined) m.card.exp_month = expMonth;
    if (m.card && expYear !== undefined) m.card.exp_year = expYear;
  });
  return render(core, pm, p.expand());
}

export const customerRoutes: Route[] = [
  route('POST', '/v1/customers', createCustomer),
  route('GET', '/v1/customers', listCustomers),
  route('GET', '/v1/customers/:id', retrieveCustomer),
  route('POST', '/v1/customers/:id', updateCustomer),
  route('DELETE', '/v1/customers/:id', deleteCustomer),
  route('GET', '/v1/customers/:id/payment_methods', listCustomerPaymentMethods),
  route('GET', '/v1/customers/:id/payment_methods/:pm', retrieveCustomerPaymentMethod),
  route('GET', '/v1/payment_methods', listPaymentMethods),
  route('GET', '/v1/payment_methods/:id', retrievePaymentMethod),
  route('POST', '/v1/payment_methods/:id', updatePaymentMethod),
  route('POST', '/v1/payment_methods/:id/attach', attachPaymentMethod),
  route('POST', '/v1/payment_methods/:id/detach', detachPaymentMethod),
];
