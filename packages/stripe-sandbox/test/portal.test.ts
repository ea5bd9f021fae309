import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import Stripe from 'stripe';
import { catchError, lastEventFor, startHarness, type Harness } from './helpers.ts';

describe('stripe sandbox hosted pages', () => {
  let h: Harness;
  let stripe: Stripe;

  beforeAll(async () => {
    h = await startHarness();
    stripe = h.stripe;
  });
  afterAll(() => h.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  const form = (card: string) => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ card }).toString(),
    redirect: 'manual' as const,
  });

  async function failingInvoice(): Promise<{ customer: Stripe.Customer; invoice: Stripe.Invoice }> {
    const customer = await stripe.customers.create({
      email: 'linus@example.com',
      payment_method: 'pm_card_chargeCustomerFail',
      invoice_settings: { default_payment_method: 'pm_card_chargeCustomerFail' },
    });
    await stripe.invoiceItems.create({ customer: customer.id, amount: 1200, currency: 'usd', description: 'Pro plan' });
    const draft = await stripe.invoices.create({ customer: customer.id, pending_invoice_items_behavior: 'include' });
    await catchError(stripe.invoices.pay(draft.id));
    return { customer, invoice: await stripe.invoices.retrieve(draft.id) };
  }

  it('creates a payment_method_update portal session whose page lists the test cards', async () => {
    const { customer } = await failingInvoice();
    const session = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: 'https://app.example.com/account',
      flow_data: {
        type: 'payment_method_update',
        after_completion: { type: 'redirect', redirect: { return_url: 'https://app.example.com/card-updated' } },
      },
    });
    expect(session.id).toMatch(/^bps_/);
    expect(session.object).toBe('billing_portal.session');
    expect(session.url).toBe(`${h.sandbox.url}/p/session/${session.id}`);
    expect(session.return_url).toBe('https://app.example.com/account');
    expect(session.flow).toMatchObject({
      type: 'payment_method_update',
      after_completion: { type: 'redirect', redirect: { return_url: 'https://app.example.com/card-updated' } },
    });

    const page = await fetch(session.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('Update your payment method');
    for (const card of ['pm_card_visa', 'pm_card_mastercard', 'pm_card_visa_chargeDeclinedInsufficientFunds', 'pm_card_authenticationRequired']) {
      expect(html).toContain(`value="${card}"`);
    }
    expect(html).toContain('insufficient funds');

    const posted = await fetch(session.url, form('pm_card_visa'));
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe('https://app.example.com/card-updated');
    const after = (await stripe.customers.retrieve(customer.id, { expand: ['invoice_settings.default_payment_method'] })) as Stripe.Customer;
    const pm = after.invoice_settings.default_payment_method as Stripe.PaymentMethod;
    expect(pm.card?.last4).toBe('4242');
    expect(pm.customer).toBe(customer.id);
    const updated = await lastEventFor(stripe, 'customer.updated', customer.id);
    expect(updated.data.previous_attributes).toMatchObject({ invoice_settings: { default_payment_method: expect.stringMatching(/^pm_/) } });
    await lastEventFor(stripe, 'payment_method.attached', pm.id);
  });

  it('validates portal session params like Stripe', async () => {
    const missing = await catchError(stripe.billingPortal.sessions.create({} as Stripe.BillingPortal.SessionCreateParams));
    expect(missing).toMatchObject({ statusCode: 400, code: 'parameter_missing', param: 'customer' });
    const customer = await stripe.customers.create({});
    const noReturn = await catchError(
      stripe.billingPortal.sessions.create({
        customer: customer.id,
        flow_data: { type: 'payment_method_update', after_completion: { type: 'redirect' } },
      }),
    );
    expect(noReturn.param).toBe('flow_data[after_completion][redirect][return_url]');
  });

  it('says a portal session has expired after five minutes', async () => {
    const customer = await stripe.customers.create({});
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://app.example.com/' });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 5 * 60 * 1000 + 1000);
    const page = await fetch(session.url);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('This session has expired');
    const posted = await fetch(session.url, form('pm_card_visa'));
    expect(posted.status).toBe(410);
    vi.useRealTimers();
    const unchanged = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(unchanged.invoice_settings.default_payment_method).toBeNull();
  });

  // Stripe's sessions "are short-lived and will expire if the customer does not visit the URL"
  // (https://docs.stripe.com/api/customer_portal/sessions/object): the five minutes bound an
  // unopened link, not a customer at work in the portal (an hour after their last page, here).
  it('keeps an opened session usable past five minutes, and expires it an hour after the last page', async () => {
    const customer = await stripe.customers.create({});
    const session = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://app.example.com/' });
    const start = Date.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(start + 4 * 60 * 1000);
      expect((await fetch(session.url)).status).toBe(200);
      vi.setSystemTime(start + 30 * 60 * 1000);
      const posted = await fetch(session.url, form('pm_card_visa'));
      expect(posted.status).toBe(303); // back to return_url, the card saved
      vi.setSystemTime(start + 30 * 60 * 1000 + 60 * 60 * 1000 + 1000);
      expect((await fetch(session.url)).status).toBe(410);
    } finally {
      vi.useRealTimers();
    }
    const updated = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(updated.invoice_settings.default_payment_method).not.toBeNull();
  });

  it('serves the hosted invoice page and pays it with the chosen test card', async () => {
    const { invoice } = await failingInvoice();
    expect(invoice.hosted_invoice_url).toBe(`${h.sandbox.url}/i/${invoice.id}`);
    const html = await (await fetch(invoice.hosted_invoice_url!)).text();
    expect(html).toContain('$12.00');
    expect(html).toContain('>open<');
    expect(html).toContain('Pay with Visa (4242)');
    expect(html).toContain('Pay with a declining card');

    const declined = await fetch(`${invoice.hosted_invoice_url!}/pay`, form('pm_card_chargeCustomerFail'));
    expect(declined.status).toBe(200);
    expect(await declined.text()).toContain('Your card was declined.');
    // A customer's attempt on the hosted page is a manual one: it does not count (attempt-count.test.ts).
    expect((await stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(1);

    const paid = await fetch(`${invoice.hosted_invoice_url!}/pay`, form('pm_card_visa'));
    const page = await paid.text();
    expect(page).toContain('Payment successful.');
    expect(page).toContain('>paid<');
    const after = await stripe.invoices.retrieve(invoice.id);
    expect(after).toMatchObject({ status: 'paid', amount_paid: 1200, attempt_count: 1 });
    await lastEventFor(stripe, 'invoice.paid', invoice.id);
    await lastEventFor(stripe, 'invoice.payment_succeeded', invoice.id);

    const pdf = await fetch(after.invoice_pdf!);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect((await pdf.text()).startsWith('%PDF-1.4')).toBe(true);
  });
});
