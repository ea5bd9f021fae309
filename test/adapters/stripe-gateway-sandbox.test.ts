import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStripeClient, StripeGateway } from '#shared/adapters/stripe-gateway.ts';
import { StripeRequestError, StripeUnavailableError } from '#shared/domain/errors.ts';
import { startStripeSandbox, type StripeSandbox } from '@stripe-dunning/stripe-sandbox';

// The gateway against the local Stripe sandbox: a whole failed-renewal story through the real SDK,
// from a declined first invoice to a card update, a paid retry and a cancellation.

const API_KEY = 'sk_test_adapters';

let sandbox: StripeSandbox;
let stripe: Stripe;
let gateway: StripeGateway;

beforeAll(async () => {
  // The gateway's requests and their mapping, not Stripe's rate limits (request-budget-sandbox.test.ts meets those).
  sandbox = await startStripeSandbox({ port: 0, rateLimits: 'off' });
  stripe = createStripeClient({ apiKey: API_KEY, apiBase: sandbox.url, maxNetworkRetries: 0 });
  gateway = new StripeGateway(stripe);
});

afterAll(async () => {
  await sandbox?.close();
});

/** A customer whose card declines, subscribed to a monthly price: its first invoice fails. */
async function failedSubscription() {
  const customer = await stripe.customers.create({
    email: 'jane@example.com',
    name: 'Jane Doe',
    preferred_locales: ['de-DE', 'en'],
    metadata: { time_zone: 'Europe/Berlin' },
    payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
    invoice_settings: { default_payment_method: 'pm_card_chargeDeclinedInsufficientFunds' },
  });
  const price = await stripe.prices.create({
    currency: 'eur',
    unit_amount: 4900,
    recurring: { interval: 'month' },
    product_data: { name: 'Pro plan' },
  });
  const subscription = await stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: price.id }],
    payment_behavior: 'allow_incomplete',
  });
  const invoiceId = typeof subscription.latest_invoice === 'string' ? subscription.latest_invoice : subscription.latest_invoice!.id;
  return { customer, subscription, invoiceId };
}

describe('StripeGateway against the Stripe sandbox', () => {
  it('reads a failed invoice with its subscription and customer', async () => {
    const { customer, subscription, invoiceId } = await failedSubscription();

    const snapshot = await gateway.getInvoice(invoiceId);

    expect(snapshot).toMatchObject({
      id: invoiceId,
      status: 'open',
      customerId: customer.id,
      subscriptionId: subscription.id,
      amountDue: { amount: 4900, currency: 'eur' },
      amountRemaining: 4900,
      collectionMethod: 'charge_automatically',
      livemode: false,
    });
  });

  it('brings the customer, the card a charge would take and the plan in the invoice read, as their own reads say them', async () => {
    const { customer, subscription, invoiceId } = await failedSubscription();
    await stripe.subscriptions.update(subscription.id, { metadata: { tier: 'gold' } });
    const ownReads = [vi.spyOn(gateway, 'getInvoicePlan'), vi.spyOn(gateway, 'getCustomerPreferences'), vi.spyOn(gateway, 'getDefaultPaymentMethod')];

    const snapshot = await gateway.getInvoice(invoiceId, { withCustomer: true, withPaymentMethod: true, withPlan: true });

    // None of the reads of their own ran: it all came in the invoice's one request.
    for (const read of ownReads) {
      expect(read).not.toHaveBeenCalled();
      read.mockRestore();
    }

    expect(snapshot.customerPreferences).toEqual(await gateway.getCustomerPreferences(customer.id));
    expect(snapshot.customerPreferences).toMatchObject({ locale: 'de-DE', timeZone: 'Europe/Berlin' });
    expect(snapshot.paymentMethod).toBe(await gateway.getDefaultPaymentMethod(customer.id, subscription.id));
    expect(snapshot.paymentMethod).toMatch(/^pm_/);
    expect(snapshot.plan).toEqual(await gateway.getInvoicePlan(invoiceId, subscription.id));
    expect(snapshot.plan).toMatchObject({ intervals: ['month'], subscriptionMetadata: { tier: 'gold' } });
  });

  it("names the subscription's own card before the customer's, as Stripe charges it", async () => {
    const { customer, subscription, invoiceId } = await failedSubscription();
    const own = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.subscriptions.update(subscription.id, { default_payment_method: own.id });

    expect((await gateway.getInvoice(invoiceId, { withPaymentMethod: true })).paymentMethod).toBe(own.id);
    expect((await gateway.getRenewalCard(customer.id, subscription.id))?.id).toBe(own.id);
  });

  it('reports a decline, then pays once the customer has a working card, then stays paid', async () => {
    const { customer, invoiceId } = await failedSubscription();

    const declined = await gateway.payInvoice(invoiceId, `${invoiceId}-retry-1`);
    const card = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: card.id } });
    const paid = await gateway.payInvoice(invoiceId, `${invoiceId}-retry-2`);
    const again = await gateway.payInvoice(invoiceId, `${invoiceId}-retry-3`);

    expect(declined).toMatchObject({ outcome: 'declined', code: 'card_declined', declineCode: 'insufficient_funds' });
    expect(paid).toEqual({ outcome: 'paid' });
    expect(again).toEqual({ outcome: 'paid' });
    expect((await gateway.getInvoice(invoiceId)).status).toBe('paid');
  });

  it('reads why the invoice declined, and the card it declined, in one request', async () => {
    const { customer, invoiceId } = await failedSubscription();
    const card = customer.invoice_settings.default_payment_method as string;
    const reads: string[] = [];
    const count = (request: { path: string }) => reads.push(request.path);
    stripe.on('request', count);
    try {
      const snapshot = await gateway.getInvoice(invoiceId, { withPaymentError: true });

      expect(reads).toHaveLength(1);
      expect(snapshot.lastPaymentError).toMatchObject({ code: 'card_declined', declineCode: 'insufficient_funds', adviceCode: 'try_again_later', paymentMethod: card });
    } finally {
      stripe.off('request', count);
    }
  });

  // The sandbox's Mastercard for merchant advice code 03: the network says never again, though the
  // decline code alone (do_not_honor) would read as worth another try.
  it("reports the network's advice and the card's brand, from a pay and from the invoice's payment error", async () => {
    const { customer, invoiceId } = await failedSubscription();
    const card = await stripe.paymentMethods.attach('pm_card_mastercard_chargeDeclinedDoNotTryAgain', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: card.id } });

    const declined = await gateway.payInvoice(invoiceId, `${invoiceId}-mac-03`);
    const snapshot = await gateway.getInvoice(invoiceId, { withPaymentError: true });

    const expected = { declineCode: 'do_not_honor', adviceCode: 'do_not_try_again', networkAdviceCode: '03', networkDeclineCode: '05', cardBrand: 'mastercard' };
    expect(declined).toMatchObject({ outcome: 'declined', code: 'card_declined', ...expected });
    expect(snapshot.lastPaymentError).toMatchObject({ code: 'card_declined', ...expected, paymentMethod: card.id });
  });

  it('finds nothing to charge once the customer removed their card, and a pay is a no_payment_method decline', async () => {
    const { customer, subscription, invoiceId } = await failedSubscription();
    await stripe.paymentMethods.detach(customer.invoice_settings.default_payment_method as string);

    expect(await gateway.getDefaultPaymentMethod(customer.id, subscription.id)).toBeUndefined();
    expect(await gateway.payInvoice(invoiceId, `${invoiceId}-no-card`)).toMatchObject({ outcome: 'declined', code: 'no_payment_method' });
    expect((await gateway.getInvoice(invoiceId)).status).toBe('open');
  });

  it('reads a paid invoice and how it was paid in one request when told it is paid, in two otherwise', async () => {
    const { customer, invoiceId } = await failedSubscription();
    const card = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: card.id } });
    await gateway.payInvoice(invoiceId, `${invoiceId}-pay`);
    const reads: string[] = [];
    const count = (request: { path: string }) => reads.push(request.path);
    stripe.on('request', count);
    try {
      const told = await gateway.getInvoice(invoiceId, { expectPaid: true });
      const toldReads = reads.length;
      const untold = await gateway.getInvoice(invoiceId);

      expect(toldReads).toBe(1);
      expect(reads.length - toldReads).toBe(2);
      expect(told).toEqual(untold);
      expect(told).toMatchObject({ status: 'paid', paidOffStripe: false });
    } finally {
      stripe.off('request', count);
    }
  });

  it('replays a pay with the same idempotency key instead of charging again', async () => {
    const { invoiceId } = await failedSubscription();

    const first = await gateway.payInvoice(invoiceId, `${invoiceId}-same`);
    const second = await gateway.payInvoice(invoiceId, `${invoiceId}-same`);

    expect(second).toEqual(first);
  });

  it('cancels a subscription, and a second cancel is done too', async () => {
    const { subscription } = await failedSubscription();

    await gateway.cancelSubscription(subscription.id, `${subscription.id}-cancel-1`);
    await gateway.cancelSubscription(subscription.id, `${subscription.id}-cancel-2`);

    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('canceled');
  });

  it('throws StripeRequestError when cancelling a subscription that does not exist', async () => {
    await expect(gateway.cancelSubscription('sub_doesnotexist', 'k')).rejects.toBeInstanceOf(StripeRequestError);
  });

  it('reads the customer’s preferred locale and time zone', async () => {
    const { customer } = await failedSubscription();

    expect(await gateway.getCustomerPreferences(customer.id)).toEqual({ locale: 'de-DE', timeZone: 'Europe/Berlin' });
  });

  it('creates a billing portal link for updating the card', async () => {
    const { customer } = await failedSubscription();

    const url = await gateway.createPaymentUpdateUrl(customer.id, 'https://app.example/account');

    expect(url).toMatch(/^https?:\/\//);
  });

  it('throws StripeRateLimitedError when the sandbox answers 429, and the next call goes through', async () => {
    const { invoiceId } = await failedSubscription();
    sandbox.injectFault({ method: 'GET', path: `/v1/invoices/${invoiceId}`, status: 429, count: 1 });

    await expect(gateway.getInvoice(invoiceId)).rejects.toMatchObject({ name: 'StripeRateLimitedError' });
    await expect(gateway.getInvoice(invoiceId)).resolves.toMatchObject({ id: invoiceId });
  });

  it.each([500, 503] as const)('throws StripeUnavailableError when the sandbox answers %i', async (status) => {
    const { invoiceId } = await failedSubscription();
    sandbox.injectFault({ method: 'GET', path: `/v1/invoices/${invoiceId}`, status, count: 1 });

    await expect(gateway.getInvoice(invoiceId)).rejects.toMatchObject({ name: 'StripeUnavailableError', statusCode: status });
    await expect(gateway.getInvoice(invoiceId)).resolves.toMatchObject({ id: invoiceId });
  });

  it('throws StripeRequestError for a key Stripe does not accept', async () => {
    const badKey = new StripeGateway(createStripeClient({ apiKey: 'sk_live_nope', apiBase: sandbox.url, maxNetworkRetries: 0 }));

    await expect(badKey.getCustomerPreferences('cus_x')).rejects.toMatchObject({ name: 'StripeRequestError', statusCode: 401 });
  });

  it('is not confused with StripeUnavailableError for a missing invoice', async () => {
    const error = await gateway.getInvoice('in_doesnotexist').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StripeRequestError);
    expect(error).not.toBeInstanceOf(StripeUnavailableError);
  });
});
