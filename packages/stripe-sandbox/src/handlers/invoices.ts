// /v1/invoices and /v1/invoiceitems: one-off invoices, finalize, pay (the dunning retry),
// void, mark_uncollectible, and the lists the dunning logic reads.
import type Stripe from 'stripe';
import {
  collectPendingItems,
  createDraftInvoice,
  finalizeInvoice,
  markInvoicePaid,
  markUncollectible,
  refreshInvoiceItemLines,
  voidInvoice,
} from '../billing/invoices.ts';
import { attemptInvoicePayment } from '../billing/payments.ts';
import { change, defaultPaymentMethodFor, paymentIntentOf } from '../billing/state.ts';
import { render } from '../expand.ts';
import { fixture } from '../fixtures.ts';
import { cardError, detachedPaymentMethod, invalidRequest, invoiceRequiresAction, missingParam, noPaymentMethod } from '../errors.ts';
import { createdFilter, paginate } from '../list.ts';
import { idOf, liveCustomer, mustGet } from '../lookup.ts';
import { buildInvoiceItem } from '../objects/invoice.ts';
import { route, type Ctx, type Route } from '../router.ts';
import { attach, paymentMethodRef } from '../wallet.ts';

function createInvoice({ core, params: p }: Ctx): unknown {
  const customer = liveCustomer(core, p.requireString('customer'), 'customer');
  const subId = p.string('subscription');
  const sub = subId ? mustGet(core, 'subscription', subId, 'subscription') : null;
  if (sub && sub.customer !== customer.id) {
    throw invalidRequest(`The subscription ${sub.id} does not belong to customer ${customer.id}.`, { param: 'subscription' });
  }
  const collectionMethod = p.oneOf('collection_method', ['charge_automatically', 'send_invoice'] as const) ?? 'charge_automatically';
  const daysUntilDue = p.int('days_until_due', { min: 0 }) ?? null;
  if (collectionMethod === 'send_invoice' && daysUntilDue === null && !p.has('due_date')) throw missingParam('days_until_due');
  const pending = p.oneOf('pending_invoice_items_behavior', ['exclude', 'include'] as const) ?? 'exclude';
  const dpmRef = p.string('default_payment_method');
  if (dpmRef) {
    const pm = mustGet(core, 'payment_method', dpmRef, 'default_payment_method');
    if (pm.customer !== customer.id) {
      throw invalidRequest(`The PaymentMethod ${pm.id} does not belong to the Customer ${customer.id}.`, { param: 'default_payment_method' });
    }
  }
  const now = core.nowForCustomer(customer.id);
  const inv = createDraftInvoice(core, {
    customer,
    subscription: sub,
    billingReason: 'manual',
    collectionMethod,
    autoAdvance: p.bool('auto_advance') ?? false,
    description: p.string('description') ?? null,
    metadata: p.metadata('metadata') ?? {},
    defaultPaymentMethod: dpmRef ?? null,
    daysUntilDue,
    currency: (p.string('currency') ?? customer.currency ?? 'usd').toLowerCase(),
    periodStart: now,
    periodEnd: now,
  });
  const dueDate = p.int('due_date');
  if (dueDate !== undefined) inv.due_date = dueDate;
  if (pending === 'include' || sub) collectPendingItems(core, inv, sub?.id ?? null);
  core.emit('invoice.created', inv);
  return render(core, inv, p.expand());
}

function draftOnly(inv: Stripe.Invoice, param: string): void {
  if (inv.status !== 'draft') {
    throw invalidRequest(`You can only update \`${param}\` on draft invoices. This invoice is ${inv.status}.`, {
      param,
      code: 'invoice_not_editable',
    });
  }
}

function updateInvoice({ core, args, params: p }: Ctx): unknown {
  const inv = mustGet(core, 'invoice', args[0]!);
  const metadata = p.metadata('metadata', inv.metadata ?? {});
  const description = p.isEmpty('description') ? null : p.string('description');
  const autoAdvance = p.bool('auto_advance');
  const dpm = p.isEmpty('default_payment_method') ? null : p.string('default_payment_method');
  if (description !== undefined) draftOnly(inv, 'description');
  if (dpm) mustGet(core, 'payment_method', dpm, 'default_payment_method');
  if (autoAdvance !== undefined && inv.status !== 'draft' && inv.status !== 'open') draftOnly(inv, 'auto_advance');
  change(core, 'invoice.updated', inv, (i) => {
    if (metadata !== undefined) i.metadata = metadata;
    if (description !== undefined) i.description = description;
    if (autoAdvance !== undefined) i.auto_advance = autoAdvance;
    if (dpm !== undefined) i.default_payment_method = dpm;
  });
  return render(core, inv, p.expand());
}

function deleteInvoice({ core, args }: Ctx): unknown {
  const inv = mustGet(core, 'invoice', args[0]!);
  if (inv.status !== 'draft') {
    throw invalidRequest('You can only delete draft invoices. Consider voiding or marking the invoice uncollectible instead.', {
      code: 'invoice_not_editable',
    });
  }
  for (const ii of core.store.all('invoiceitem')) if (ii.invoice === inv.id) ii.invoice = null;
  core.store.remove('invoice', inv.id);
  core.emit('invoice.deleted', inv);
  const deleted = fixture<Stripe.DeletedInvoice>('deleted_invoice');
  deleted.id = inv.id;
  return deleted;
}

function finalize({ core, args, params: p }: Ctx): unknown {
  const inv = mustGet(core, 'invoice', args[0]!);
  if (inv.status !== 'draft') {
    throw invalidRequest("This invoice is already finalized, you can't re-finalize a non-draft invoice.", { code: 'invoice_not_editable' });
  }
  finalizeInvoice(core, inv, p.bool('auto_advance'));
  return render(core, inv, p.expand());
}

function pay({ core, args, params: p }: Ctx): unknown {
  const inv = mustGet(core, 'invoice', args[0]!);
  if (inv.status === 'paid') throw invalidRequest('Invoice is already paid');
  if (inv.status === 'void') throw invalidRequest('This invoice has been voided and can no longer be paid.');
  const customer = liveCustomer(core, idOf(inv.customer as string)!, 'customer');
  const outOfBand = p.bool('paid_out_of_band') ?? false;
  // off_session defaults to true; every decline is off-session here, so it changes nothing.
  p.bool('off_session');
  let pmId: string | null = null;
  const pmRef = p.string('payment_method');
  if (pmRef) {
    const isToken = !core.store.get('payment_method', pmRef);
    const pm = paymentMethodRef(core, pmRef, 'payment_method', undefined, core.nowForCustomer(customer.id));
    if (isToken) attach(core, pm, customer);
    else if (pm.customer !== customer.id) {
      throw invalidRequest(
        `The PaymentMethod ${pm.id} does not belong to the Customer ${customer.id}. Please use a PaymentMethod that belongs to this Customer.`,
        { param: 'payment_method' },
      );
    }
    pmId = pm.id;
  }
  if (!outOfBand) {
    pmId ??= defaultPaymentMethodFor(core, inv);
    if (!pmId && inv.amount_remaining > 0) throw noPaymentMethod();
  }
  if (inv.status === 'draft') finalizeInvoice(core, inv);
  if (inv.status === 'paid') return render(core, inv, p.expand());
  if (outOfBand) {
    markInvoicePaid(core, inv, { charged: false, outOfBand: true });
    return render(core, inv, p.expand());
  }
  // A detached card can no longer pay (docs.stripe.com/api/payment_methods/detach), even if the
  // invoice still names it: Stripe's bare refusal, without a code or param.
  const charged = pmId ? core.store.get('payment_method', pmId) : undefined;
  if (charged && idOf(charged.customer) === null) throw detachedPaymentMethod();
  const result = attemptInvoicePayment(core, inv, pmId, 'manual');
  if (!result.ok && result.decline?.requiresAction) throw invoiceRequiresAction();
  if (!result.ok) {
    const pi = paymentIntentOf(core, inv);
    const decline = result.decline ?? { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.', outcome: 'issuer_declined' };
    throw cardError({
      message: decline.message,
      code: decline.code,
      decline_code: decline.decline_code,
      advice_code: result.charge?.outcome?.advice_code,
      network_advice_code: result.charge?.outcome?.network_advice_code,
      network_decline_code: result.charge?.outcome?.network_decline_code,
      charge: result.charge?.id,
      payment_intent: pi ? structuredClone(pi) : undefined,
      payment_method: result.paymentMethod ? structuredClone(result.paymentMethod) : undefined,
    });
  }
  return render(core, inv, p.expand());
}

function voidIt({ core, args, params: p }: Ctx): unknown {
  const inv = mustGet(core, 'invoice', args[0]!);
  if (inv.status !== 'open' && inv.status !== 'uncollectible') {
    throw invalidRequest(`You can only void invoices that are open or uncollectible. This invoice is ${inv.status}.`, {
      code: 'invoice_not_editable',
    });
  }
  voidInvoice(core, inv);
  return render(core, inv, p.expand());
}

function uncollectible({ core, args, params: p }: Ctx): unknown {
  const inv = mustGet(core, 'invoice', args[0]!);
  if (inv.status !== 'open') {
    throw invalidRequest(`You can only mark open invoices as uncollectible. This invoice is ${inv.status}.`, {
      code: 'invoice_not_editable',
    });
  }
  markUncollectible(core, inv, 'user_forgiven');
  return render(core, inv, p.expand());
}

function listInvoices({ core, params: p }: Ctx): unknown {
  const customer = p.string('customer');
  const subscription = p.string('subscription');
  const status = p.oneOf('status', ['draft', 'open', 'paid', 'uncollectible', 'void'] as const);
  const collection = p.string('collection_method');
  const created = createdFilter(p);
  const candidates = customer !== undefined ? core.store.where('invoice', 'customer', customer) : core.store.all('invoice');
  const items = candidates
    .filter(
      (i) =>
        (customer === undefined || i.customer === customer) &&
        (subscription === undefined || i.parent?.subscription_details?.subscription === subscription) &&
        (status === undefined || i.status === status) &&
        (collection === undefined || i.collection_method === collection) &&
        created(i.created),
    );
  return paginate(core, items, p, '/v1/invoices');
}

function listLines({ core, args, params: p }: Ctx): unknown {
  const inv = mustGet(core, 'invoice', args[0]!);
  return paginate(core, inv.lines.data, p, `/v1/invoices/${inv.id}/lines`);
}

function createInvoiceItem({ core, params: p }: Ctx): unknown {
  const customer = liveCustomer(core, p.requireString('customer'), 'customer');
  const priceId = p.string('price') ?? p.object('pricing')?.string('price');
  const price = priceId ? mustGet(core, 'price', priceId, 'price') : null;
  const amount = p.int('amount');
  const unitAmount = price?.unit_amount ?? p.int('unit_amount') ?? amount;
  if (unitAmount === undefined) throw missingParam('amount');
  const currency = (price?.currency ?? p.string('currency') ?? customer.currency ?? '').toLowerCase();
  if (!currency) throw missingParam('currency');
  const invoiceId = p.string('invoice');
  const inv = invoiceId ? mustGet(core, 'invoice', invoiceId, 'invoice') : undefined;
  if (inv && inv.status !== 'draft') {
    throw invalidRequest('You can only add invoice items to draft invoices.', { param: 'invoice', code: 'invoice_not_editable' });
  }
  const subId = p.string('subscription');
  if (subId) mustGet(core, 'subscription', subId, 'subscription');
  const quantity = amount !== undefined && !price ? 1 : (p.int('quantity', { min: 0 }) ?? 1);
  const productName = price ? core.store.get('product', idOf(price.product as string)!)?.name : undefined;
  const ii = buildInvoiceItem({
    customer,
    date: core.nowForCustomer(customer.id),
    currency,
    unitAmount,
    quantity,
    description: p.string('description') ?? productName ?? null,
    price,
    invoice: inv?.id ?? null,
    subscription: subId ?? null,
    metadata: p.metadata('metadata') ?? {},
  });
  core.store.put('invoiceitem', ii);
  if (inv) refreshInvoiceItemLines(core, inv);
  core.emit('invoiceitem.created', ii);
  return render(core, ii, p.expand());
}

function deleteInvoiceItem({ core, args }: Ctx): unknown {
  const ii = mustGet(core, 'invoiceitem', args[0]!);
  const inv = ii.invoice ? core.store.get('invoice', idOf(ii.invoice)!) : undefined;
  if (inv && inv.status !== 'draft') {
    throw invalidRequest('You can only delete invoice items that are on draft invoices or pending.', { code: 'invoice_not_editable' });
  }
  core.store.remove('invoiceitem', ii.id);
  if (inv) refreshInvoiceItemLines(core, inv);
  core.emit('invoiceitem.deleted', ii);
  const deleted = fixture<Stripe.DeletedInvoiceItem>('deleted_invoiceitem');
  deleted.id = ii.id;
  return deleted;
}

function listInvoiceItems({ core, params: p }: Ctx): unknown {
  const customer = p.string('customer');
  const invoice = p.string('invoice');
  const pending = p.bool('pending');
  const items = core.store
    .all('invoiceitem')
    .filter(
      (ii) =>
        (customer === undefined || ii.customer === customer) &&
        (invoice === undefined || ii.invoice === invoice) &&
        (pending === undefined || (ii.invoice === null) === pending),
    );
  return paginate(core, items, p, '/v1/invoiceitems');
}

export const invoiceRoutes: Route[] = [
  route('POST', '/v1/invoices', createInvoice),
  route('GET', '/v1/invoices', listInvoices),
  route('GET', '/v1/invoices/:id', ({ core, args, params }) => render(core, mustGet(core, 'invoice', args[0]!), params.expand())),
  route('POST', '/v1/invoices/:id', updateInvoice),
  route('DELETE', '/v1/invoices/:id', deleteInvoice),
  route('GET', '/v1/invoices/:id/lines', listLines),
  route('POST', '/v1/invoices/:id/finalize', finalize),
  route('POST', '/v1/invoices/:id/pay', pay),
  route('POST', '/v1/invoices/:id/void', voidIt),
  route('POST', '/v1/invoices/:id/mark_uncollectible', uncollectible),
  route('POST', '/v1/invoiceitems', createInvoiceItem),
  route('GET', '/v1/invoiceitems', listInvoiceItems),
  route('GET', '/v1/invoiceitems/:id', ({ core, args, params }) => render(core, mustGet(core, 'invoiceitem', args[0]!), params.expand())),
  route('DELETE', '/v1/invoiceitems/:id', deleteInvoiceItem),
];
