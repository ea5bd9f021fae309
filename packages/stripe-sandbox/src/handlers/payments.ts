// Read-only views of the money movement behind invoices: payment intents, charges and
// invoice payments. Creating them directly is not supported (404 Unrecognized request URL).
import { render } from '../expand.ts';
import { createdFilter, paginate } from '../list.ts';
import { mustGet } from '../lookup.ts';
import { route, type Ctx, type Route } from '../router.ts';

function listPaymentIntents({ core, params: p }: Ctx): unknown {
  const customer = p.string('customer');
  const created = createdFilter(p);
  const items = core.store.all('payment_intent').filter((x) => (customer === undefined || x.customer === customer) && created(x.created));
  return paginate(core, items, p, '/v1/payment_intents');
}

function listCharges({ core, params: p }: Ctx): unknown {
  const customer = p.string('customer');
  const pi = p.string('payment_intent');
  const created = createdFilter(p);
  const items = core.store
    .all('charge')
    .filter((x) => (customer === undefined || x.customer === customer) && (pi === undefined || x.payment_intent === pi) && created(x.created));
  return paginate(core, items, p, '/v1/charges');
}

function listInvoicePayments({ core, params: p }: Ctx): unknown {
  const invoice = p.string('invoice');
  const payment = p.object('payment');
  const pi = payment?.string('payment_intent');
  const status = p.string('status');
  const items = core.store
    .all('invoice_payment')
    .filter(
      (x) =>
        (invoice === undefined || x.invoice === invoice) &&
        (pi === undefined || x.payment.payment_intent === pi) &&
        (status === undefined || x.status === status),
    );
  return paginate(core, items, p, '/v1/invoice_payments');
}

export const paymentRoutes: Route[] = [
  route('GET', '/v1/payment_intents', listPaymentIntents),
  route('GET', '/v1/payment_intents/:id', ({ core, args, params }) => render(core, mustGet(core, 'payment_intent', args[0]!), params.expand())),
  route('GET', '/v1/charges', listCharges),
  route('GET', '/v1/charges/:id', ({ core, args, params }) => render(core, mustGet(core, 'charge', args[0]!), params.expand())),
  route('GET', '/v1/invoice_payments', listInvoicePayments),
  route('GET', '/v1/invoice_payments/:id', ({ core, args, params }) => render(core, mustGet(core, 'invoice_payment', args[0]!), params.expand())),
];
