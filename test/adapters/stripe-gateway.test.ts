import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStripeClient, StripeGateway } from '#shared/adapters/stripe-gateway.ts';
import { stripeEndpointOf } from '#shared/adapters/request-pacer.ts';
import { OverBudgetError, StripeRateLimitedError, StripeRequestError, StripeUnavailableError } from '#shared/domain/errors.ts';

// A loopback stand-in for api.stripe.com that answers the requests the gateway makes with
// Stripe-shaped JSON, so the real SDK parses real HTTP answers (status codes, error bodies).

interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  query: URLSearchParams;
  form: URLSearchParams;
}

const requests: Recorded[] = [];

function invoice(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    object: 'invoice',
    status: 'open',
    customer: 'cus_1',
    amount_due: 4900,
    amount_remaining: 4900,
    currency: 'eur',
    number: 'INV-0042',
    hosted_invoice_url: 'https://invoice.stripe.com/i/x',
    customer_email: 'jane@example.com',
    customer_name: 'Jane Doe',
    collection_method: 'charge_automatically',
    attempt_count: 1,
    livemode: false,
    created: 1767261600,
    parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_current', metadata: {} } },
    ...extra,
  };
}

function customer(id: string, defaultPaymentMethod: unknown, defaultSource: string | null) {
  return { id, object: 'customer', invoice_settings: { default_payment_method: defaultPaymentMethod }, default_source: defaultSource };
}

function stripeError(status: number, error: Record<string, unknown>) {
  return { status, body: { error } };
}

/** An invoice read with `payments.data.payment.payment_intent` expanded, as Stripe answers it. */
function withPayments(id: string, ...intents: Array<{ isDefault: boolean; intent: Record<string, unknown> }>) {
  const data = intents.map(({ isDefault, intent }, i) => ({
    id: `inpay_${i}`,
    object: 'invoice_payment',
    invoice: id,
    is_default: isDefault,
    status: 'open',
    payment: { type: 'payment_intent', payment_intent: { object: 'payment_intent', ...intent } },
  }));
  return invoice(id, { payments: { object: 'list', data, has_more: false, url: `/v1/invoices/${id}/payments` } });
}

const STOLEN_CARD_ERROR = {
  type: 'card_error',
  code: 'card_declined',
  decline_code: 'stolen_card',
  advice_code: 'do_not_try_again',
  network_decline_code: '43',
  message: 'Your card was declined.',
};

/**
 * A Mastercard declined with merchant advice code 03 ("do not try again"), though its decline code is
 * only do_not_honor: the error carries the network's advice and the PaymentMethod (docs.stripe.com/api/errors).
 */
const MAC_03_ERROR = {
  type: 'card_error',
  code: 'card_declined',
  decline_code: 'do_not_honor',
  advice_code: 'do_not_try_again',
  network_advice_code: '03',
  network_decline_code: '05',
  message: 'Your card was declined.',
  charge: 'ch_mac',
  payment_method: { id: 'pm_mc', object: 'payment_method', type: 'card', card: { brand: 'mastercard', last4: '0033' } },
};

/** The charge of that decline, as an expanded `latest_charge` shows it (docs.stripe.com/api/charges/object#charge_object-outcome). */
const MAC_03_CHARGE = {
  id: 'ch_mac',
  object: 'charge',
  status: 'failed',
  outcome: {
    type: 'issuer_declined',
    reason: 'do_not_honor',
    network_status: 'declined_by_network',
    advice_code: 'do_not_try_again',
    network_advice_code: '03',
    network_decline_code: '05',
    risk_level: 'normal',
    seller_message: 'The bank returned the decline code `do_not_honor`.',
  },
};

const ROUTES: Record<string, () => { status: number; body: unknown; delayMs?: number }> = {
  'GET /v1/invoices/in_current': () => ({ status: 200, body: invoice('in_current') }),
  'GET /v1/invoices/in_legacy': () => ({
    status: 200,
    body: invoice('in_legacy', { parent: null, subscription: { id: 'sub_legacy', object: 'subscription' } }),
  }),
  'GET /v1/invoices/in_expanded': () => ({
    status: 200,
    body: invoice('in_expanded', {
      customer: { id: 'cus_obj', object: 'customer' },
      parent: { type: 'subscription_details', subscription_details: { subscription: { id: 'sub_obj' } } },
      number: null,
      hosted_invoice_url: null,
      customer_email: null,
      customer_name: null,
    }),
  }),
  'GET /v1/invoices/in_hard_declined': () => ({
    status: 200,
    body: withPayments(
      'in_hard_declined',
      // A later payment attached to the invoice: the renewal's own is the default one.
      { isDefault: false, intent: { id: 'pi_other', payment_method: 'pm_other', last_payment_error: null } },
      {
        isDefault: true,
        intent: {
          id: 'pi_renewal',
          payment_method: 'pm_on_intent',
          last_payment_error: { ...STOLEN_CARD_ERROR, charge: 'ch_1', payment_method: { id: 'pm_stolen', object: 'payment_method' } },
        },
      },
    ),
  }),
  // As Stripe answers the four-level expansion: the intent's latest_charge is an id.
  'GET /v1/invoices/in_mac_declined': () => ({
    status: 200,
    body: withPayments('in_mac_declined', {
      isDefault: true,
      intent: { id: 'pi_mac', status: 'requires_payment_method', payment_method: 'pm_mc', latest_charge: 'ch_mac', last_payment_error: MAC_03_ERROR },
    }),
  }),
  'GET /v1/invoices/in_mac_charge_expanded': () => ({
    status: 200,
    body: withPayments('in_mac_charge_expanded', {
      isDefault: true,
      intent: { id: 'pi_mac', status: 'requires_payment_method', payment_method: 'pm_mc', latest_charge: MAC_03_CHARGE, last_payment_error: MAC_03_ERROR },
    }),
  }),
  'GET /v1/invoices/in_needs_3ds': () => ({
    status: 200,
    body: withPayments('in_needs_3ds', {
      isDefault: true,
      intent: {
        id: 'pi_3ds',
        status: 'requires_action',
        payment_method: 'pm_3ds',
        last_payment_error: { type: 'card_error', code: 'authentication_required', decline_code: 'authentication_required', message: 'This transaction requires authentication.' },
      },
    }),
  }),
  // As Stripe leaves a renewal whose bank wants 3-D Secure: no charge, so no error (docs.stripe.com/billing/subscriptions/overview#requires-action).
  'GET /v1/invoices/in_requires_action': () => ({
    status: 200,
    body: withPayments('in_requires_action', { isDefault: true, intent: { id: 'pi_waiting', status: 'requires_action', payment_method: 'pm_3ds', last_payment_error: null } }),
  }),
  'GET /v1/invoices/in_not_attempted': () => ({
    status: 200,
    body: withPayments('in_not_attempted', { isDefault: true, intent: { id: 'pi_new', payment_method: null, last_payment_error: null } }),
  }),
  'GET /v1/invoices/in_missing': () =>
    stripeError(404, { type: 'invalid_request_error', code: 'resource_missing', message: "No such invoice: 'in_missing'" }),
  'POST /v1/invoices/in_ok/pay': () => ({ status: 200, body: invoice('in_ok', { status: 'paid', amount_remaining: 0 }) }),
  'POST /v1/invoices/in_processing/pay': () => ({ status: 200, body: invoice('in_processing', { status: 'open' }) }),
  'POST /v1/invoices/in_declined/pay': () =>
    stripeError(402, {
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
    }),
  'POST /v1/invoices/in_stolen/pay': () => stripeError(402, { ...STOLEN_CARD_ERROR, charge: 'ch_2' }),
  // The card error carries the payment intent, whose latest_charge is an id unless expanded.
  'POST /v1/invoices/in_mac/pay': () =>
    stripeError(402, { ...MAC_03_ERROR, payment_intent: { id: 'pi_mac', object: 'payment_intent', latest_charge: 'ch_mac' } }),
  'POST /v1/invoices/in_mac_charge_expanded/pay': () =>
    stripeError(402, { ...MAC_03_ERROR, payment_intent: { id: 'pi_mac', object: 'payment_intent', latest_charge: MAC_03_CHARGE } }),
  // A Radar block: the charge never reached the network (docs.stripe.com/declines/how-declines-work#blocked-payments).
  'POST /v1/invoices/in_blocked/pay': () =>
    stripeError(402, {
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'fraudulent',
      message: 'Your card was declined.',
      payment_method: { id: 'pm_radar', object: 'payment_method', card: { brand: 'visa' } },
      payment_intent: {
        id: 'pi_radar',
        object: 'payment_intent',
        latest_charge: { id: 'ch_radar', object: 'charge', outcome: { type: 'blocked', reason: 'highest_risk_level', network_status: 'not_sent_to_network', risk_level: 'highest' } },
      },
    }),
  // Stripe's bare refusal of a detached card (no code, no param).
  'POST /v1/invoices/in_detached_card/pay': () =>
    stripeError(400, {
      type: 'invalid_request_error',
      message:
        'The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.',
    }),
  'POST /v1/invoices/in_no_card/pay': () =>
    stripeError(400, {
      type: 'invalid_request_error',
      code: 'resource_missing',
      doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
      message:
        'This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.',
    }),
  'POST /v1/invoices/in_expired/pay': () =>
    stripeError(402, { type: 'card_error', code: 'expired_card', message: 'Your card has expired.' }),
  'POST /v1/invoices/in_paid/pay': () =>
    stripeError(400, { type: 'invalid_request_error', message: 'Invoice is already paid' }),
  'POST /v1/invoices/in_void/pay': () =>
    stripeError(400, { type: 'invalid_request_error', message: 'This invoice can no longer be paid.' }),
  'POST /v1/invoices/in_busy/pay': () =>
    stripeError(429, { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests.' }),
  'POST /v1/invoices/in_broken/pay': () => stripeError(500, { type: 'api_error', message: 'Something went wrong on our end.' }),
  'POST /v1/invoices/in_unavailable/pay': () => ({ status: 503, body: 'Service Unavailable' }),
  'POST /v1/invoices/in_slow/pay': () => ({ status: 200, body: invoice('in_slow'), delayMs: 1_500 }),
  'DELETE /v1/subscriptions/sub_active': () => ({
    status: 200,
    body: { id: 'sub_active', object: 'subscription', status: 'canceled' },
  }),
  'DELETE /v1/subscriptions/sub_canceled': () =>
    stripeError(404, { type: 'invalid_request_error', code: 'resource_missing', message: "No such subscription: 'sub_canceled'" }),
  'GET /v1/subscriptions/sub_canceled': () => ({
    status: 200,
    body: { id: 'sub_canceled', object: 'subscription', status: 'canceled' },
  }),
  'DELETE /v1/subscriptions/sub_nope': () =>
    stripeError(404, { type: 'invalid_request_error', code: 'resource_missing', message: "No such subscription: 'sub_nope'" }),
  'GET /v1/subscriptions/sub_nope': () =>
    stripeError(404, { type: 'invalid_request_error', code: 'resource_missing', message: "No such subscription: 'sub_nope'" }),
  'GET /v1/subscriptions/sub_own_card': () => ({
    status: 200,
    body: { id: 'sub_own_card', object: 'subscription', default_payment_method: 'pm_sub', customer: customer('cus_1', 'pm_cus', null) },
  }),
  'GET /v1/subscriptions/sub_customer_card': () => ({
    status: 200,
    body: { id: 'sub_customer_card', object: 'subscription', default_payment_method: null, default_source: null, customer: customer('cus_1', { id: 'pm_cus', object: 'payment_method' }, null) },
  }),
  'GET /v1/subscriptions/sub_legacy_source': () => ({
    status: 200,
    body: { id: 'sub_legacy_source', object: 'subscription', default_payment_method: null, default_source: null, customer: customer('cus_1', null, 'card_legacy') },
  }),
  'GET /v1/subscriptions/sub_no_card': () => ({
    status: 200,
    body: { id: 'sub_no_card', object: 'subscription', default_payment_method: null, default_source: null, customer: customer('cus_1', null, null) },
  }),
  'GET /v1/customers/cus_card': () => ({ status: 200, body: customer('cus_card', 'pm_cus', null) }),
  'GET /v1/customers/cus_fr': () => ({
    status: 200,
    body: { id: 'cus_fr', object: 'customer', preferred_locales: ['fr-FR', 'en'], metadata: { time_zone: 'Europe/Paris' } },
  }),
  'GET /v1/customers/cus_mars': () => ({
    status: 200,
    body: { id: 'cus_mars', object: 'customer', preferred_locales: [], metadata: { time_zone: 'Mars/Olympus_Mons' } },
  }),
  'GET /v1/customers/cus_plain': () => ({ status: 200, body: { id: 'cus_plain', object: 'customer', preferred_locales: [] } }),
  'GET /v1/customers/cus_gone': () => ({ status: 200, body: { id: 'cus_gone', object: 'customer', deleted: true } }),
  'POST /v1/billing_portal/sessions': () => ({
    status: 200,
    body: { id: 'bps_1', object: 'billing_portal.session', url: 'https://billing.stripe.com/p/session/test_1' },
  }),
};

function handle(req: IncomingMessage, res: ServerResponse) {
  let raw = '';
  req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  req.on('end', () => {
    const [path = '', query = ''] = (req.url ?? '').split('?');
    requests.push({ method: req.method ?? '', path, headers: req.headers, query: new URLSearchParams(query), form: new URLSearchParams(raw) });
    if (req.headers.authorization === 'Bearer sk_test_revoked') {
      return reply(res, stripeError(401, { type: 'invalid_request_error', message: 'Invalid API Key provided' }));
    }
    const route = ROUTES[`${req.method} ${path}`];
    if (!route) {
      return reply(res, stripeError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${path})` }));
    }
    const answer = route();
    setTimeout(() => reply(res, answer), answer.delayMs ?? 0);
  });
}

function reply(res: ServerResponse, { status, body }: { status: number; body: unknown }) {
  if (res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', 'request-id': 'req_test' });
  res.end(text);
}

let server: Server;
let apiBase: string;
let gateway: StripeGateway;

function gatewayWith(apiKey: string, timeoutMs = 10_000): StripeGateway {
  return new StripeGateway(createStripeClient({ apiKey, apiBase, maxNetworkRetries: 0, timeoutMs }));
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gateway = gatewayWith('sk_test_local');
});

beforeEach(() => {
  requests.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('StripeGateway.getInvoice', () => {
  it('reads the subscription from the invoice parent (current API shape)', async () => {
    const snapshot = await gateway.getInvoice('in_current');

    expect(snapshot).toEqual({
      id: 'in_current',
      status: 'open',
      customerId: 'cus_1',
      subscriptionId: 'sub_current',
      amountDue: { amount: 4900, currency: 'eur' },
      amountRemaining: 4900,
      number: 'INV-0042',
      hostedInvoiceUrl: 'https://invoice.stripe.com/i/x',
      customerEmail: 'jane@example.com',
      customerName: 'Jane Doe',
      collectionMethod: 'charge_automatically',
      attemptCount: 1,
      livemode: false,
      created: 1767261600,
      paidOffStripe: false,
    });
  });

  it('falls back to the legacy top-level subscription, expanded or not', async () => {
    expect((await gateway.getInvoice('in_legacy')).subscriptionId).toBe('sub_legacy');
  });

  it('takes ids from expanded objects and drops null fields', async () => {
    const snapshot = await gateway.getInvoice('in_expanded');

    expect(snapshot).toMatchObject({ customerId: 'cus_obj', subscriptionId: 'sub_obj' });
    expect(snapshot.number).toBeUndefined();
    expect(snapshot.customerEmail).toBeUndefined();
  });

  it("reads why the renewal's own attempt failed from its payment intent, in the same request", async () => {
    const snapshot = await gateway.getInvoice('in_hard_declined', { withPaymentError: true });

    expect(requests).toHaveLength(1);
    expect(requests[0]?.query.getAll('expand[0]')).toEqual(['payments.data.payment.payment_intent']);
    expect(snapshot.lastPaymentError).toEqual({
      code: 'card_declined',
      declineCode: 'stolen_card',
      adviceCode: 'do_not_try_again',
      networkDeclineCode: '43',
      paymentMethod: 'pm_stolen',
      message: 'Your card was declined.',
    });
  });

  it("reads the network's advice and the card's brand from the error, with no outcome while the charge is only an id", async () => {
    const snapshot = await gateway.getInvoice('in_mac_declined', { withPaymentError: true });

    expect(requests).toHaveLength(1);
    expect(snapshot.lastPaymentError).toEqual({
      code: 'card_declined',
      declineCode: 'do_not_honor',
      adviceCode: 'do_not_try_again',
      networkDeclineCode: '05',
      networkAdviceCode: '03',
      cardBrand: 'mastercard',
      paymentMethod: 'pm_mc',
      message: 'Your card was declined.',
    });
  });

  it("reads the charge's outcome when the intent's latest_charge comes expanded", async () => {
    const snapshot = await gateway.getInvoice('in_mac_charge_expanded', { withPaymentError: true });

    expect(requests).toHaveLength(1);
    expect(snapshot.lastPaymentError).toMatchObject({
      networkAdviceCode: '03',
      cardBrand: 'mastercard',
      outcomeType: 'issuer_declined',
      outcomeReason: 'do_not_honor',
      networkStatus: 'declined_by_network',
    });
  });

  it("takes the payment intent's card when the error does not name one", async () => {
    const snapshot = await gateway.getInvoice('in_needs_3ds', { withPaymentError: true });

    expect(snapshot.lastPaymentError).toMatchObject({ code: 'authentication_required', paymentMethod: 'pm_3ds' });
  });

  it('reads an intent waiting for 3-D Secure, which has no error, as its card needing authentication', async () => {
    const snapshot = await gateway.getInvoice('in_requires_action', { withPaymentError: true });

    expect(snapshot.lastPaymentError).toMatchObject({ code: 'authentication_required', paymentMethod: 'pm_3ds' });
  });

  it('has no payment error for an invoice whose payment was never attempted, nor unless asked', async () => {
    expect((await gateway.getInvoice('in_not_attempted', { withPaymentError: true })).lastPaymentError).toBeUndefined();
    expect((await gateway.getInvoice('in_hard_declined')).lastPaymentError).toBeUndefined();
    expect(requests.at(-1)?.query.toString()).toBe('');
  });

  it('throws StripeRequestError for an invoice that does not exist', async () => {
    await expect(gateway.getInvoice('in_missing')).rejects.toMatchObject({
      name: 'StripeRequestError',
      code: 'resource_missing',
      statusCode: 404,
    });
  });

  it('throws StripeRequestError when the API key is refused', async () => {
    await expect(gatewayWith('sk_test_revoked').getInvoice('in_current')).rejects.toMatchObject({
      name: 'StripeRequestError',
      statusCode: 401,
    });
  });
});

describe('StripeGateway.payInvoice', () => {
  it('pays off-session with the idempotency key', async () => {
    const result = await gateway.payInvoice('in_ok', 'retry-in_ok-day3');

    expect(result).toEqual({ outcome: 'paid' });
    expect(requests[0]?.headers['idempotency-key']).toBe('retry-in_ok-day3');
    expect(requests[0]?.form.get('off_session')).toBe('true');
  });

  it('reports a card decline as an outcome with its codes', async () => {
    expect(await gateway.payInvoice('in_declined', 'k')).toEqual({
      outcome: 'declined',
      code: 'card_declined',
      declineCode: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
    });
  });

  it("reports the issuer's advice and the network's code with a decline", async () => {
    expect(await gateway.payInvoice('in_stolen', 'k')).toEqual({
      outcome: 'declined',
      code: 'card_declined',
      declineCode: 'stolen_card',
      adviceCode: 'do_not_try_again',
      networkDeclineCode: '43',
      message: 'Your card was declined.',
    });
  });

  it("reports the network's advice and the card's brand with a decline, and no outcome while the charge is only an id", async () => {
    expect(await gateway.payInvoice('in_mac', 'k')).toEqual({
      outcome: 'declined',
      code: 'card_declined',
      declineCode: 'do_not_honor',
      adviceCode: 'do_not_try_again',
      networkDeclineCode: '05',
      networkAdviceCode: '03',
      cardBrand: 'mastercard',
      message: 'Your card was declined.',
    });
    expect(requests).toHaveLength(1);
  });

  it("reports the charge's outcome when the error's payment intent carries its charge expanded, without another request", async () => {
    expect(await gateway.payInvoice('in_mac_charge_expanded', 'k')).toMatchObject({
      outcome: 'declined',
      networkAdviceCode: '03',
      cardBrand: 'mastercard',
      outcomeType: 'issuer_declined',
      outcomeReason: 'do_not_honor',
      networkStatus: 'declined_by_network',
    });
    expect(requests).toHaveLength(1);
  });

  it('reports a Radar block as blocked and never sent to the network', async () => {
    expect(await gateway.payInvoice('in_blocked', 'k')).toEqual({
      outcome: 'declined',
      code: 'card_declined',
      declineCode: 'fraudulent',
      cardBrand: 'visa',
      outcomeType: 'blocked',
      outcomeReason: 'highest_risk_level',
      networkStatus: 'not_sent_to_network',
      message: 'Your card was declined.',
    });
  });

  it('reports a customer with nothing to charge as a no_payment_method decline, not an error', async () => {
    expect(await gateway.payInvoice('in_no_card', 'k')).toMatchObject({ outcome: 'declined', code: 'no_payment_method' });
  });

  it('reports a card the customer detached as a payment_method_detached decline, not an error', async () => {
    expect(await gateway.payInvoice('in_detached_card', 'k')).toMatchObject({ outcome: 'declined', code: 'payment_method_detached' });
  });

  it('reports a card error without a decline code', async () => {
    expect(await gateway.payInvoice('in_expired', 'k')).toEqual({
      outcome: 'declined',
      code: 'expired_card',
      message: 'Your card has expired.',
    });
  });

  it('treats an invoice that is already paid as paid', async () => {
    expect(await gateway.payInvoice('in_paid', 'k')).toEqual({ outcome: 'paid' });
  });

  it('does not call an invoice paid while its payment is still processing', async () => {
    expect(await gateway.payInvoice('in_processing', 'k')).toMatchObject({ outcome: 'declined', code: 'payment_incomplete' });
  });

  it('throws StripeRateLimitedError when Stripe answers 429, so the state machine waits patiently instead of flagging', async () => {
    const error = await gateway.payInvoice('in_busy', 'k').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StripeRateLimitedError);
    expect((error as Error).message).toBe('Too many requests.');
  });

  it.each([
    ['in_broken', 500],
  ])('throws StripeUnavailableError when Stripe answers %s with %i', async (invoiceId, status) => {
    const error = await gateway.payInvoice(invoiceId, 'k').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StripeUnavailableError);
    expect(error).toMatchObject({ statusCode: status });
  });

  it('throws StripeUnavailableError when a proxy answers 503 with a non-JSON body', async () => {
    // The SDK reports "Invalid JSON received" without the status code.
    await expect(gateway.payInvoice('in_unavailable', 'k')).rejects.toBeInstanceOf(StripeUnavailableError);
  });

  it('throws StripeUnavailableError when Stripe does not answer in time', async () => {
    await expect(gatewayWith('sk_test_local', 200).payInvoice('in_slow', 'k')).rejects.toBeInstanceOf(
      StripeUnavailableError,
    );
  });

  it('throws StripeUnavailableError when Stripe cannot be reached', async () => {
    const unreachable = new StripeGateway(
      createStripeClient({ apiKey: 'sk_test_local', apiBase: 'http://127.0.0.1:9', maxNetworkRetries: 0 }),
    );

    await expect(unreachable.payInvoice('in_ok', 'k')).rejects.toBeInstanceOf(StripeUnavailableError);
  });

  it('throws StripeRequestError for an invoice that can no longer be paid', async () => {
    await expect(gateway.payInvoice('in_void', 'k')).rejects.toBeInstanceOf(StripeRequestError);
  });
});

describe('StripeGateway.getDefaultPaymentMethod', () => {
  it.each([
    ['the subscription’s own default first (Checkout sets only that one)', 'sub_own_card', 'pm_sub'],
    ['else the customer’s invoice default, expanded or not', 'sub_customer_card', 'pm_cus'],
    ['else the customer’s legacy default source', 'sub_legacy_source', 'card_legacy'],
    ['nothing when the customer removed every card', 'sub_no_card', undefined],
  ])('takes %s, in one request', async (_, subscriptionId, expected) => {
    expect(await gateway.getDefaultPaymentMethod('cus_1', subscriptionId)).toBe(expected);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.query.get('expand[0]')).toBe('customer');
  });

  it('reads the customer alone when there is no subscription', async () => {
    expect(await gateway.getDefaultPaymentMethod('cus_card')).toBe('pm_cus');
  });
});

describe('StripeGateway.cancelSubscription', () => {
  it('cancels with the idempotency key', async () => {
    await gateway.cancelSubscription('sub_active', 'terminate-in_1');

    expect(requests[0]).toMatchObject({ method: 'DELETE', path: '/v1/subscriptions/sub_active' });
    expect(requests[0]?.headers['idempotency-key']).toBe('terminate-in_1');
  });

  it('treats a subscription that is already canceled as done', async () => {
    await expect(gateway.cancelSubscription('sub_canceled', 'k')).resolves.toBeUndefined();
  });

  it('throws StripeRequestError for a subscription that does not exist', async () => {
    await expect(gateway.cancelSubscription('sub_nope', 'k')).rejects.toBeInstanceOf(StripeRequestError);
  });
});

describe('StripeGateway.getCustomerPreferences', () => {
  it('returns the first preferred locale and the time zone in metadata.time_zone', async () => {
    expect(await gateway.getCustomerPreferences('cus_fr')).toEqual({ locale: 'fr-FR', timeZone: 'Europe/Paris' });
  });

  it('returns neither when the customer has none', async () => {
    expect(await gateway.getCustomerPreferences('cus_plain')).toEqual({ locale: undefined, timeZone: undefined });
  });

  it('ignores a time zone Intl does not know, so dates fall back to the policy zone', async () => {
    expect((await gateway.getCustomerPreferences('cus_mars')).timeZone).toBeUndefined();
  });

  it('returns nothing for a deleted customer', async () => {
    expect(await gateway.getCustomerPreferences('cus_gone')).toEqual({});
  });
});

describe('StripeGateway.createPaymentUpdateUrl', () => {
  it('opens a billing portal session on the payment method update flow', async () => {
    const url = await gateway.createPaymentUpdateUrl('cus_1', 'https://app.example/account');

    expect(url).toBe('https://billing.stripe.com/p/session/test_1');
    const form = requests[0]!.form;
    expect(Object.fromEntries(form)).toEqual({
      customer: 'cus_1',
      return_url: 'https://app.example/account',
      'flow_data[type]': 'payment_method_update',
      'flow_data[after_completion][type]': 'redirect',
      'flow_data[after_completion][redirect][return_url]': 'https://app.example/account',
    });
  });
});

describe('createStripeClient', () => {
  it('sends requests to the configured API base', async () => {
    const stripe: Stripe = createStripeClient({ apiKey: 'sk_test_local', apiBase, maxNetworkRetries: 0 });

    await stripe.customers.retrieve('cus_fr');

    expect(requests[0]).toMatchObject({ method: 'GET', path: '/v1/customers/cus_fr' });
    expect(requests[0]?.headers['user-agent']).toContain('stripe-dunning');
  });
});

describe('a Stripe client with a request budget', () => {
  it('takes a place for every request, by endpoint, the SDK’s own retry included', async () => {
    const asked: string[] = [];
    const paced = new StripeGateway(createStripeClient({ apiKey: 'sk_test_local', apiBase, maxNetworkRetries: 1, pacer: { acquire: async (endpoint) => void asked.push(endpoint ?? '') } }));

    await paced.payInvoice('in_ok', 'k');
    await expect(paced.payInvoice('in_broken', 'k2')).rejects.toBeInstanceOf(StripeUnavailableError);

    // One place per request that reached Stripe, each under its endpoint's name (in_ok is too short
    // to read as an id: test/unit/request-pacer.test.ts has the naming of real ids).
    expect(requests).toHaveLength(3);
    expect(asked).toEqual(requests.map((r) => stripeEndpointOf(r.method, r.path)));
    expect(asked).toEqual(['POST /v1/invoices/in_ok/pay', 'POST /v1/invoices/in_broken/pay', 'POST /v1/invoices/in_broken/pay']);
  });

  it('sends nothing when the budget has no room, and gives the caller OverBudgetError itself, not a connection error', async () => {
    const full = { acquire: async () => Promise.reject(new OverBudgetError('the stripe request budget (10/s) had no room within 8000 ms')) };
    const paced = new StripeGateway(createStripeClient({ apiKey: 'sk_test_local', apiBase, maxNetworkRetries: 0, pacer: full }));

    const error = await paced.payInvoice('in_ok', 'k').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OverBudgetError);
    expect(requests).toEqual([]);
  });
});
