// Builds the payment side of an invoice: its `payment_intent`, each attempt's `charge`, and the
// `invoice_payment` that links invoice and PaymentIntent in the current API.
import type Stripe from 'stripe';
import { sellerMessage, type Decline } from '../cards.ts';
import { fixture } from '../fixtures.ts';
import { newId, randomAlnum } from '../ids.ts';

export function buildPaymentIntent(f: {
  created: number;
  amount: number;
  currency: string;
  customer: string;
  description: string | null;
}): Stripe.PaymentIntent {
  const pi = fixture<Stripe.PaymentIntent>('payment_intent');
  pi.id = newId('pi');
  pi.allowed_payment_method_types = null;
  pi.amount = f.amount;
  pi.amount_capturable = 0;
  pi.amount_details = { tip: {} } as Stripe.PaymentIntent.AmountDetails;
  pi.amount_received = 0;
  pi.application = null;
  pi.application_fee_amount = null;
  pi.automatic_payment_methods = null;
  pi.canceled_at = null;
  pi.cancellation_reason = null;
  pi.capture_method = 'automatic';
  pi.client_secret = `${pi.id}_secret_${randomAlnum(25)}`;
  pi.confirmation_method = 'automatic';
  pi.created = f.created;
  pi.currency = f.currency;
  pi.customer = f.customer;
  pi.customer_account = null;
  pi.description = f.description;
  pi.excluded_payment_method_types = null;
  pi.last_payment_error = null;
  pi.latest_charge = null;
  pi.livemode = false;
  pi.managed_payments = null;
  pi.metadata = {};
  pi.next_action = null;
  pi.on_behalf_of = null;
  pi.payment_method = null;
  pi.payment_method_configuration_details = null;
  pi.payment_method_options = {
    card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
  } as Stripe.PaymentIntent.PaymentMethodOptions;
  pi.payment_method_types = ['card'];
  pi.payment_record = null;
  pi.processing = null;
  pi.receipt_email = null;
  pi.review = null;
  pi.setup_future_usage = null;
  pi.shipping = null;
  pi.source = null;
  pi.statement_descriptor = null;
  pi.statement_descriptor_suffix = null;
  pi.status = 'requires_payment_method';
  pi.transfer_data = null;
  pi.transfer_group = null;
  return pi;
}

export function buildCharge(f: {
  created: number;
  paymentIntent: Stripe.PaymentIntent;
  paymentMethod: Stripe.PaymentMethod;
  decline: Decline | undefined;
  baseUrl: string;
}): Stripe.Charge {
  const ch = fixture<Stripe.Charge>('charge');
  const pi = f.paymentIntent;
  const card = f.paymentMethod.card;
  const ok = f.decline === undefined;
  ch.id = newId('ch');
  ch.amount = pi.amount;
  ch.amount_captured = ok ? pi.amount : 0;
  ch.amount_refunded = 0;
  ch.application = null;
  ch.application_fee = null;
  ch.application_fee_amount = null;
  ch.balance_transaction = ok ? newId('txn') : null;
  ch.billing_details = structuredClone(f.paymentMethod.billing_details);
  ch.calculated_statement_descriptor = 'STRIPE SANDBOX';
  ch.captured = ok;
  ch.created = f.created;
  ch.currency = pi.currency;
  ch.customer = typeof pi.customer === 'string' ? pi.customer : (pi.customer?.id ?? null);
  ch.description = pi.description;
  ch.disputed = false;
  ch.failure_balance_transaction = null;
  ch.failure_code = f.decline?.code ?? null;
  ch.failure_message = f.decline?.message ?? null;
  ch.fraud_details = {};
  ch.livemode = false;
  ch.metadata = {};
  ch.on_behalf_of = null;
  // Stripe's outcome of the charge (docs.stripe.com/api/charges/object#charge_object-outcome): a
  // Radar block or card data Stripe refused never reached the network; an issuer decline carries the
  // bank's advice and code, and the network's advice (Mastercard's merchant advice code).
  const type = ok ? 'authorized' : f.decline!.outcome;
  const blocked = type === 'blocked';
  ch.outcome = {
    advice_code: f.decline?.advice_code ?? null,
    network_advice_code: f.decline?.network_advice_code ?? null,
    network_decline_code: f.decline?.network_decline_code ?? null,
    network_status: ok ? 'approved_by_network' : type === 'issuer_declined' ? 'declined_by_network' : 'not_sent_to_network',
    reason: f.decline ? (blocked ? 'highest_risk_level' : f.decline.decline_code) : null,
    risk_level: blocked ? 'highest' : 'normal',
    risk_score: blocked ? 95 : 32,
    seller_message: f.decline ? sellerMessage(f.decline) : 'Payment complete.',
    type,
  } as Stripe.Charge.Outcome;
  ch.paid = ok;
  ch.payment_intent = pi.id;
  ch.payment_method = f.paymentMethod.id;
  const details = fixture<Stripe.Charge>('charge').payment_method_details!;
  details.card = {
    ...details.card!,
    amount_authorized: ok ? pi.amount : null,
    brand: card?.brand ?? 'visa',
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: null },
    country: card?.country ?? 'US',
    exp_month: card?.exp_month ?? 12,
    exp_year: card?.exp_year ?? 2099,
    extended_authorization: { status: 'disabled' },
    fingerprint: card?.fingerprint ?? null,
    funding: card?.funding ?? 'credit',
    incremental_authorization: { status: 'unavailable' },
    installments: null,
    last4: card?.last4 ?? '0000',
    mandate: null,
    multicapture: { status: 'unavailable' },
    network: card?.brand ?? 'visa',
    network_token: { used: false },
    overcapture: { maximum_amount_capturable: pi.amount, status: 'unavailable' },
    three_d_secure: null,
    wallet: null,
    authorization_code: ok ? String(100000 + Math.floor(Math.random() * 900000)) : null,
    regulated_status: 'unregulated',
    network_transaction_id: ok ? randomAlnum(15) : null,
  } as Stripe.Charge.PaymentMethodDetails.Card;
  details.type = 'card';
  ch.payment_method_details = details;
  ch.receipt_email = null;
  ch.receipt_number = null;
  ch.receipt_url = ok ? `${f.baseUrl}/receipts/${ch.id}` : null;
  ch.refunded = false;
  ch.refunds = { object: 'list', data: [], has_more: false, url: `/v1/charges/${ch.id}/refunds` } as Stripe.ApiList<Stripe.Refund>;
  (ch.refunds as unknown as Record<string, unknown>).total_count = 0;
  ch.review = null;
  ch.shipping = null;
  ch.source = null;
  ch.source_transfer = null;
  ch.statement_descriptor = null;
  ch.statement_descriptor_suffix = null;
  ch.status = ok ? 'succeeded' : 'failed';
  ch.transfer_data = null;
  ch.transfer_group = null;
  return ch;
}

export function buildInvoicePayment(f: {
  created: number;
  invoice: Stripe.Invoice;
  paymentIntent: Stripe.PaymentIntent;
}): Stripe.InvoicePayment {
  const ip = fixture<Stripe.InvoicePayment>('invoice_payment');
  ip.id = newId('inpay');
  ip.amount_paid = null;
  ip.amount_requested = f.invoice.amount_remaining;
  ip.created = f.created;
  ip.currency = f.invoice.currency;
  ip.invoice = f.invoice.id;
  ip.is_default = true;
  ip.livemode = false;
  ip.payment = { payment_intent: f.paymentIntent.id, type: 'payment_intent' } as Stripe.InvoicePayment.Payment;
  ip.status = 'open';
  ip.status_transitions = { canceled_at: null, paid_at: null };
  return ip;
}
