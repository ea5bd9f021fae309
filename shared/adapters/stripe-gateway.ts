// The Stripe ports (Invoices, Subscriptions, Customers) on the Stripe SDK. Every call goes through one
// error mapping (stripe-errors.ts): a decline is an outcome, Stripe being unavailable is retried, and a
// request Stripe refuses is a permanent error.
import Stripe from 'stripe';
import { StripeRequestError } from '../domain/errors.ts';
import {
  AUTHENTICATION_REQUIRED,
  TIME_ZONE_METADATA_KEY,
  type CustomerContact,
  type CustomerPreferences,
  type InvoiceReadOptions,
  type InvoiceSnapshot,
  type PaymentFailure,
  type Customers,
  type Invoices,
  type Subscriptions,
  type PayOutcome,
  type Renewal,
  type RenewalCard,
  type SubscriptionStatus,
} from '../domain/ports.ts';
import { isTimeZone } from '../policy/time-zone.ts';
import type { InvoicePlan } from '../policy/segments.ts';
import { asStripeError, classify, declineDetails } from './stripe-errors.ts';
import { stripeEndpointOf, type RequestPacer } from './request-pacer.ts';

export interface StripeClientOptions {
  apiKey: string;
  /** e.g. http://127.0.0.1:12111 for the local sandbox; omit for api.stripe.com. */
  apiBase?: string;
  /** The SDK retries connection errors, 409s and 5xx with backoff; tests set 0. */
  maxNetworkRetries?: number;
  timeoutMs?: number;
  /**
   * The request budget every request (the SDK's own retries too) takes its place in before it
   * leaves. Absent: unpaced (the CLI, the tests' own setup).
   */
  pacer?: Pick<RequestPacer, 'acquire'>;
  /** The SDK's HTTP client (paced, when there is a pacer); a test harness passes one that waits out the sandbox's rate limiter. */
  httpClient?: Stripe.HttpClient;
}

/** Builds the Stripe SDK client; the API version is the one the SDK pins. */
export function createStripeClient(options: StripeClientOptions): Stripe {
  return new Stripe(options.apiKey, {
    ...(options.apiBase ? apiBaseParts(options.apiBase) : {}),
    maxNetworkRetries: options.maxNetworkRetries ?? 1,
    timeout: options.timeoutMs ?? 20_000,
    appInfo: { name: 'stripe-dunning' },
    ...(options.pacer
      ? { httpClient: pacedHttpClient(options.httpClient ?? Stripe.createNodeHttpClient(), options.pacer) }
      : options.httpClient
        ? { httpClient: options.httpClient }
        : {}),
  });
}

/**
 * The SDK's own HTTP client, with each request waiting for its place in the budget first. An
 * OverBudgetError thrown here reaches the caller as a StripeConnectionError whose `detail` it is,
 * and classify() gives it back as itself.
 */
function pacedHttpClient(inner: Stripe.HttpClient, pacer: Pick<RequestPacer, 'acquire'>): Stripe.HttpClient {
  const paced = Object.create(inner) as Stripe.HttpClient;
  paced.makeRequest = async (host, port, path, method, headers, requestData, protocol, timeout) => {
    await pacer.acquire(stripeEndpointOf(method, path));
    return inner.makeRequest(host, port, path, method, headers, requestData, protocol, timeout);
  };
  return paced;
}

function apiBaseParts(apiBase: string): { host: string; port: number; protocol: 'http' | 'https' } {
  const url = new URL(apiBase);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
  // URL keeps IPv6 literals bracketed; the SDK hands `host` to node:http, which wants them bare.
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port, protocol };
}

function idOf(ref: string | { id: string } | null | undefined): string | undefined {
  if (!ref) return undefined;
  return typeof ref === 'string' ? ref : ref.id;
}

/**
 * Why the invoice's latest attempt failed: the `last_payment_error` of the payment intent of its
 * default invoice payment (docs.stripe.com/api/invoice-payment/object: the one created when the
 * invoice was finalized, which the renewal's own attempt and every `invoices.pay` charge), with the
 * payment method it charged: the error's own, else the intent's; the network's advice and the card's
 * brand from the error; the charge's outcome when the intent's `latest_charge` came expanded.
 */
function lastPaymentErrorOf(invoice: Stripe.Invoice): PaymentFailure | undefined {
  const payments = invoice.payments?.data ?? [];
  const intents = [...payments.filter((p) => p.is_default), ...payments.filter((p) => !p.is_default)]
    .map((p) => p.payment.payment_intent)
    .filter((pi): pi is Stripe.PaymentIntent => typeof pi === 'object' && pi !== null);
  const intent = intents[0];
  const error = intent?.last_payment_error;
  // Waiting for the customer to authenticate (3-D Secure): no charge was made, so no error either
  // (docs.stripe.com/billing/subscriptions/overview#requires-action); the intent's state says why.
  if (intent?.status === 'requires_action' && !error) {
    return {
      code: AUTHENTICATION_REQUIRED,
      paymentMethod: idOf(intent.payment_method),
      message: 'the payment needs the customer to authenticate (3-D Secure)',
    };
  }
  if (!intent || !error) return undefined;
  return {
    code: error.code ?? undefined,
    declineCode: error.decline_code || undefined,
    adviceCode: error.advice_code || undefined,
    networkDeclineCode: error.network_decline_code || undefined,
    ...declineDetails(error, intent.latest_charge),
    paymentMethod: error.payment_method?.id ?? idOf(intent.payment_method),
    message: error.message ?? undefined,
  };
}

/** A payment method or legacy source, when it is a card with an expiry. */
function cardOf(ref: unknown): RenewalCard | undefined {
  if (!ref || typeof ref !== 'object') return undefined;
  const object = ref as { id?: string; object?: string; card?: { exp_month?: number; exp_year?: number }; exp_month?: number; exp_year?: number };
  const card = object.object === 'card' ? object : object.card;
  if (!object.id || typeof card?.exp_month !== 'number' || typeof card.exp_year !== 'number') return undefined;
  return { id: object.id, expMonth: card.exp_month, expYear: card.exp_year };
}

const INVOICE_STATUSES: readonly string[] = ['draft', 'open', 'paid', 'uncollectible', 'void'] satisfies InvoiceSnapshot['status'][];
const isInvoiceStatus = (s: string | null): s is InvoiceSnapshot['status'] => s !== null && INVOICE_STATUSES.includes(s);

/**
 * Whether a paid invoice was settled without a payment through Stripe: marked paid out of band
 * (`paid_out_of_band`, a Payment Record of an outside processor) or covered by a credit balance.
 */
function paidOffStripe(invoice: Stripe.Invoice): boolean {
  if ((invoice.amount_paid_off_stripe ?? 0) > 0) return true;
  const onStripe = invoice.payments?.data.some((p) => p.status === 'paid' && (p.payment.type === 'payment_intent' || p.payment.type === 'charge'));
  return !onStripe;
}

/** A customer's preferred locale and time zone, and their country, as Stripe holds them. */
function preferencesOf(customer: Stripe.Customer | Stripe.DeletedCustomer): CustomerPreferences {
  if (customer.deleted) return {};
  const timeZone = customer.metadata?.[TIME_ZONE_METADATA_KEY]?.trim();
  return {
    locale: customer.preferred_locales?.[0] ?? undefined,
    // Metadata is free text anyone with dashboard access can type: only a zone Intl knows counts.
    timeZone: isTimeZone(timeZone) ? timeZone : undefined,
    country: customer.address?.country ?? undefined,
  };
}

/**
 * The payment method Stripe charges for a subscription's invoice that names none, after the
 * invoice's own: the subscription's default, then the customer's invoice default, then the
 * customer's default source (docs.stripe.com/api/subscriptions/object#subscription_object-default_payment_method,
 * docs.stripe.com/billing/subscriptions/payment-methods-setting#payment-method-priority). Checkout
 * sets only the subscription's, so the customer's alone would miss it.
 */
function paymentMethodOf(subscription: Stripe.Subscription, customer: Stripe.Customer | Stripe.DeletedCustomer): string | undefined {
  const own = idOf(subscription.default_payment_method) ?? idOf(subscription.default_source);
  if (own) return own;
  return customer.deleted ? undefined : customerPaymentMethodOf(customer);
}

function customerPaymentMethodOf(customer: Stripe.Customer): string | undefined {
  return idOf(customer.invoice_settings?.default_payment_method) ?? idOf(customer.default_source);
}

/**
 * The plan from the invoice's own lines and its subscription's items, which carry their whole
 * prices: undefined when a line's price is not one of the items' (the plan changed since), or the
 * lines run past the first page, and only the lines' own reads can say.
 */
function planFromLines(invoice: Stripe.Invoice, subscription: Stripe.Subscription): InvoicePlan | undefined {
  if (invoice.lines.has_more) return undefined;
  const itemPrices = new Map(subscription.items.data.map((item) => [item.price.id, item.price]));
  const priceIds = new Set<string>();
  const productIds = new Set<string>();
  for (const line of invoice.lines.data) {
    const details = line.pricing?.price_details;
    const price = idOf(details?.price as string | { id: string } | undefined);
    if (price) priceIds.add(price);
    if (details?.product) productIds.add(details.product);
  }
  const prices = [...priceIds].map((id) => itemPrices.get(id));
  if (prices.some((price) => price === undefined)) return undefined;
  return planOf([...priceIds], productIds, prices as Stripe.Price[], subscription);
}

/** The plan a segment matches on: the first price's metadata wins a key both set, as Stripe lists them. */
function planOf(priceIds: string[], productIds: Set<string>, prices: Stripe.Price[], subscription: Stripe.Subscription): InvoicePlan {
  const priceMetadata: Record<string, string> = {};
  for (const price of [...prices].reverse()) Object.assign(priceMetadata, price.metadata ?? {});
  for (const price of prices) {
    const product = idOf(price.product as string | { id: string } | null);
    if (product) productIds.add(product);
  }
  return {
    priceIds,
    productIds: [...productIds],
    intervals: [...new Set(prices.flatMap((price) => (price.recurring ? [price.recurring.interval] : [])))],
    subscriptionMetadata: { ...(subscription.metadata ?? {}) },
    priceMetadata,
  };
}

/** The customer's card a renewal charges when its subscription names none: the invoice default, else the default source. */
function renewalCardOf(customer: Stripe.Customer | Stripe.DeletedCustomer): RenewalCard | undefined {
  if (customer.deleted) return undefined;
  if (customer.invoice_settings?.default_payment_method) return cardOf(customer.invoice_settings.default_payment_method);
  return cardOf(customer.default_source);
}

/** What this product's own cancel writes in the subscription's `cancellation_details.comment`. */
export const DUNNING_CANCEL_COMMENT = "stripe-dunning: the dunning policy's end action (every retry failed)";

/** Every Stripe port on the Stripe SDK; a use case's deps name only the ones it uses. */
export class StripeGateway implements Invoices, Subscriptions, Customers {
  constructor(private readonly stripe: Stripe) {}

  async getInvoice(invoiceId: string, options: InvoiceReadOptions = {}): Promise<InvoiceSnapshot> {
    const expand = [
      ...(options.expectPaid ? ['payments', 'amount_paid_off_stripe'] : []),
      // The invoice reaches its payment intent through its invoice payments (API 2025-03-31 on): four
      // levels, the deepest expansion Stripe allows (docs.stripe.com/api/expanding_objects). So the
      // intent's `latest_charge` cannot be expanded too: its outcome would cost a second request, and
      // the error's own fields (advice, network advice and code, payment method) say the rest.
      ...(options.withPaymentError ? ['payments.data.payment.payment_intent'] : []),
      // The customer and the subscription come in the same request rather than two more: the
      // customer's locale and zone, their default card, and the subscription's card, metadata and
      // prices (each item carries its whole price).
      ...(options.withCustomer || options.withPaymentMethod ? ['customer'] : []),
      ...(options.withPaymentMethod || options.withPlan || options.withSubscription ? ['parent.subscription_details.subscription'] : []),
    ];
    const invoice = await this.call(() => this.stripe.invoices.retrieve(invoiceId, expand.length > 0 ? { expand } : {}));
    const customerId = idOf(invoice.customer);
    if (!customerId) throw new StripeRequestError(`invoice ${invoiceId} has no customer`, 'invoice_without_customer');
    // A null status is an invoice preview; a status this SDK does not know is treated as not payable.
    if (!isInvoiceStatus(invoice.status)) {
      throw new StripeRequestError(`invoice ${invoiceId} has status ${invoice.status ?? 'null'}`, 'unexpected_invoice_status');
    }
    const status = invoice.status;
    // Current API versions name the subscription under parent; before 2025-03-31 it sat at the top.
    const legacy = (invoice as unknown as { subscription?: string | { id: string } | null }).subscription;
    const subscriptionRef = invoice.parent?.subscription_details?.subscription;
    const subscriptionId = idOf(subscriptionRef) ?? idOf(legacy);
    // Present only when the options asked for them expanded.
    const subscription = typeof subscriptionRef === 'object' && subscriptionRef !== null ? subscriptionRef : undefined;
    const customer = typeof invoice.customer === 'object' && invoice.customer !== null ? invoice.customer : undefined;
    return {
      id: invoice.id,
      status,
      customerId,
      subscriptionId,
      amountDue: { amount: invoice.amount_due, currency: invoice.currency },
      amountRemaining: invoice.amount_remaining,
      number: invoice.number ?? undefined,
      hostedInvoiceUrl: invoice.hosted_invoice_url ?? undefined,
      customerEmail: invoice.customer_email ?? undefined,
      customerName: invoice.customer_name ?? undefined,
      // Stripe's enum is open-ended; anything but send_invoice is charged automatically.
      collectionMethod: invoice.collection_method === 'send_invoice' ? 'send_invoice' : 'charge_automatically',
      attemptCount: invoice.attempt_count,
      nextPaymentAttempt: invoice.next_payment_attempt ?? undefined,
      livemode: invoice.livemode,
      created: invoice.created,
      // Asked only of a paid invoice: most reads (the webhook's, each stage's) are of open ones.
      paidOffStripe: status === 'paid' && (options.expectPaid ? paidOffStripe(invoice) : await this.wasPaidOffStripe(invoiceId)),
      defaultPaymentMethod: idOf(invoice.default_payment_method) ?? idOf(invoice.default_source),
      ...(options.withPaymentError ? { lastPaymentError: lastPaymentErrorOf(invoice) } : {}),
      ...(options.withCustomer ? { customerPreferences: customer ? preferencesOf(customer) : await this.getCustomerPreferences(customerId) } : {}),
      ...(options.withPaymentMethod ? { paymentMethod: (await this.paymentMethodToCharge(invoice, customerId, subscriptionId)) ?? null } : {}),
      ...(subscription ? { subscriptionStatus: subscription.status, subscriptionCanceledByDunning: subscription.cancellation_details?.comment === DUNNING_CANCEL_COMMENT } : {}),
      ...(options.withPlan && subscriptionId ? { plan: (subscription && planFromLines(invoice, subscription)) ?? (await this.getInvoicePlan(invoiceId, subscriptionId)) } : {}),
    };
  }

  /**
   * The card a pay naming none takes: the invoice's own default, else the subscription's and
   * customer's (paymentMethodOf), from what the invoice read expanded; a read of its own only when
   * they came unexpanded.
   */
  private async paymentMethodToCharge(invoice: Stripe.Invoice, customerId: string, subscriptionId: string | undefined): Promise<string | undefined> {
    const own = idOf(invoice.default_payment_method) ?? idOf(invoice.default_source);
    if (own) return own;
    const subscription = invoice.parent?.subscription_details?.subscription;
    const customer = invoice.customer;
    if (typeof customer !== 'object' || customer === null) return this.getDefaultPaymentMethod(customerId, subscriptionId);
    if (!subscriptionId) return customer.deleted ? undefined : customerPaymentMethodOf(customer);
    if (typeof subscription !== 'object' || subscription === null) return this.getDefaultPaymentMethod(customerId, subscriptionId);
    return paymentMethodOf(subscription, customer);
  }

  /** `payments` and `amount_paid_off_stripe`, expanded, say how a paid invoice was paid. */
  private async wasPaidOffStripe(invoiceId: string): Promise<boolean> {
    const invoice = await this.call(() => this.stripe.invoices.retrieve(invoiceId, { expand: ['payments', 'amount_paid_off_stripe'] }));
    return paidOffStripe(invoice);
  }

  async payInvoice(invoiceId: string, idempotencyKey: string, paymentMethod?: string): Promise<PayOutcome> {
    let invoice: Stripe.Invoice;
    try {
      const params: Stripe.InvoicePayParams = paymentMethod ? { off_session: true, payment_method: paymentMethod } : { off_session: true };
      invoice = await this.stripe.invoices.pay(invoiceId, params, { idempotencyKey });
    } catch (err) {
      const result = classify(err);
      if (result.kind === 'declined') return result.outcome;
      if (result.kind === 'already_paid') return { outcome: 'paid' };
      throw result.error;
    }
    if (invoice.status === 'paid') return { outcome: 'paid' };
    // Stripe took the attempt but the money has not moved (an async payment method still
    // processing): not a recovery yet; invoice.paid closes the case if it lands.
    return {
      outcome: 'declined',
      code: 'payment_incomplete',
      message: `the invoice is ${invoice.status ?? 'unknown'} after the payment attempt`,
    };
  }

  async cancelSubscription(subscriptionId: string, idempotencyKey: string): Promise<void> {
    try {
      // Signed, so a Terminate retried after this cancel tells it from one made elsewhere.
      await this.call(() => this.stripe.subscriptions.cancel(subscriptionId, { cancellation_details: { comment: DUNNING_CANCEL_COMMENT } }, { idempotencyKey }));
    } catch (err) {
      // Stripe refuses to cancel a canceled subscription (404 "No such subscription", or 400 "A
      // canceled subscription can only update..."); only a read tells that from a wrong id.
      if (!(err instanceof StripeRequestError)) throw err;
      const subscription = await this.call(() => this.stripe.subscriptions.retrieve(subscriptionId)).catch((readErr: unknown) => {
        // Not found either: the id is wrong, report the cancel's error. Unavailable: retry later.
        throw readErr instanceof StripeRequestError ? err : readErr;
      });
      if (subscription.status !== 'canceled') throw err;
    }
  }

  async cancelSubscriptionAtPeriodEnd(subscriptionId: string, idempotencyKey: string): Promise<void> {
    await this.call(() => this.stripe.subscriptions.update(subscriptionId, { cancel_at_period_end: true }, { idempotencyKey }));
  }

  async pauseCollection(subscriptionId: string, idempotencyKey: string): Promise<void> {
    await this.call(() =>
      this.stripe.subscriptions.update(subscriptionId, { pause_collection: { behavior: 'keep_as_draft' } }, { idempotencyKey }),
    );
  }

  async markInvoiceUncollectible(invoiceId: string, idempotencyKey: string): Promise<void> {
    try {
      await this.call(() => this.stripe.invoices.markUncollectible(invoiceId, {}, { idempotencyKey }));
    } catch (err) {
      // Already uncollectible (a retried stage): the goal is reached. Anything else is a real refusal.
      if (!(err instanceof StripeRequestError)) throw err;
      const invoice = await this.call(() => this.stripe.invoices.retrieve(invoiceId));
      if (invoice.status !== 'uncollectible') throw err;
    }
  }

  async getSubscriptionStatus(subscriptionId: string): Promise<SubscriptionStatus> {
    const subscription = await this.call(() => this.stripe.subscriptions.retrieve(subscriptionId));
    return subscription.status;
  }

  async getCustomerPreferences(customerId: string): Promise<CustomerPreferences> {
    return preferencesOf(await this.call(() => this.stripe.customers.retrieve(customerId)));
  }

  async getDefaultPaymentMethod(customerId: string, subscriptionId?: string): Promise<string | undefined> {
    // One request: the subscription with its customer expanded, or the customer alone.
    if (subscriptionId) {
      const subscription = await this.call(() => this.stripe.subscriptions.retrieve(subscriptionId, { expand: ['customer'] }));
      const expanded = subscription.customer;
      const customer = typeof expanded === 'string' ? await this.call(() => this.stripe.customers.retrieve(expanded)) : expanded;
      return paymentMethodOf(subscription, customer);
    }
    const customer = await this.call(() => this.stripe.customers.retrieve(customerId));
    return customer.deleted ? undefined : customerPaymentMethodOf(customer);
  }

  async createPaymentUpdateUrl(customerId: string, returnUrl: string): Promise<string> {
    const session = await this.call(() =>
      this.stripe.billingPortal.sessions.create({
        customer: customerId,
        return_url: returnUrl,
        flow_data: {
          type: 'payment_method_update',
          after_completion: { type: 'redirect', redirect: { return_url: returnUrl } },
        },
      }),
    );
    return session.url;
  }

  async getRenewalCard(customerId: string, subscriptionId?: string): Promise<RenewalCard | undefined> {
    // One request: the customer's defaults come expanded with the subscription (every renewal's
    // invoice.upcoming asks this, so a second read would cost more than all the failures' do).
    const customerDefaults = ['invoice_settings.default_payment_method', 'default_source'];
    if (subscriptionId) {
      const subscription = await this.call(() =>
        this.stripe.subscriptions.retrieve(subscriptionId, { expand: ['default_payment_method', ...customerDefaults.map((path) => `customer.${path}`)] }),
      );
      const own = cardOf(subscription.default_payment_method);
      if (own || subscription.default_payment_method) return own;
      if (typeof subscription.customer === 'object') return renewalCardOf(subscription.customer);
    }
    return renewalCardOf(await this.call(() => this.stripe.customers.retrieve(customerId, { expand: customerDefaults })));
  }

  async getInvoicePlan(invoiceId: string, subscriptionId: string): Promise<InvoicePlan> {
    const priceIds = new Set<string>();
    const productIds = new Set<string>();
    const lines = await this.call(() => this.stripe.invoices.listLineItems(invoiceId, { limit: 100 }).autoPagingToArray({ limit: 1000 }));
    for (const line of lines) {
      const details = line.pricing?.price_details;
      const price = idOf(details?.price as string | { id: string } | undefined);
      if (price) priceIds.add(price);
      if (details?.product) productIds.add(details.product);
    }
    // The interval and the price's metadata live on the price: one read per distinct price (usually one).
    const prices = await Promise.all([...priceIds].map((id) => this.call(() => this.stripe.prices.retrieve(id))));
    const subscription = await this.call(() => this.stripe.subscriptions.retrieve(subscriptionId));
    return planOf([...priceIds], productIds, prices, subscription);
  }

  async getSubscriptionPlan(subscriptionId: string): Promise<InvoicePlan> {
    // Each item carries its whole price (interval, metadata, product): one read.
    const subscription = await this.call(() => this.stripe.subscriptions.retrieve(subscriptionId));
    const prices = subscription.items.data.map((item) => item.price);
    const priceMetadata: Record<string, string> = {};
    for (const price of [...prices].reverse()) Object.assign(priceMetadata, price.metadata ?? {});
    return {
      priceIds: [...new Set(prices.map((price) => price.id))],
      productIds: [...new Set(prices.map((price) => idOf(price.product as string | { id: string })).filter((id): id is string => !!id))],
      intervals: [...new Set(prices.flatMap((price) => (price.recurring ? [price.recurring.interval] : [])))],
      subscriptionMetadata: { ...(subscription.metadata ?? {}) },
      priceMetadata,
    };
  }

  async getCustomerContact(customerId: string): Promise<CustomerContact | undefined> {
    const customer = await this.call(() => this.stripe.customers.retrieve(customerId));
    if (customer.deleted) return undefined;
    return {
      email: customer.email ?? undefined,
      name: customer.name ?? undefined,
      locale: customer.preferred_locales?.[0] ?? undefined,
    };
  }

  async listLiveSubscriptions(customerId: string): Promise<string[]> {
    return this.call(async () => {
      const ids: string[] = [];
      for await (const subscription of this.stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 100 })) {
        if (subscription.status !== 'canceled' && subscription.status !== 'incomplete_expired') ids.push(subscription.id);
      }
      return ids;
    });
  }

  async listRenewals(customerId: string): Promise<Renewal[]> {
    const renewals: Renewal[] = [];
    for await (const subscription of this.stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 100 })) {
      if (!['active', 'trialing', 'past_due'].includes(subscription.status)) continue;
      if (subscription.cancel_at_period_end || subscription.collection_method !== 'charge_automatically') continue;
      const renewsAt = subscription.items.data[0]?.current_period_end;
      if (renewsAt === undefined) continue;
      const amount = subscription.items.data.reduce((sum, item) => sum + (item.price.unit_amount ?? 0) * (item.quantity ?? 1), 0);
      renewals.push({ subscriptionId: subscription.id, renewsAt, amount: { amount, currency: subscription.currency } });
    }
    return renewals;
  }

  /** Runs a call that has no outcome to report: every failure becomes a domain error. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      const result = classify(err);
      if (result.kind === 'error') throw result.error;
      // A decline or "already paid" outside a pay would be Stripe refusing this request.
      const e = asStripeError(err);
      throw new StripeRequestError(e?.message ?? 'Stripe refused the request', e?.code, e?.statusCode);
    }
  }
}
