// Stripe's ports (invoices, subscriptions, customers) and the records they return: what the product
// reads from Stripe and the few actions it takes there, behind shared/adapters/stripe-gateway.ts.
import type { InvoicePlan } from '../policy/segments.ts';
import type { Money } from './case.ts';

/** What the product needs to know about a Stripe invoice, read fresh from Stripe. */
export interface InvoiceSnapshot {
  id: string;
  status: 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';
  customerId: string;
  subscriptionId?: string;
  amountDue: Money;
  amountRemaining: number;
  number?: string;
  hostedInvoiceUrl?: string;
  customerEmail?: string;
  customerName?: string;
  collectionMethod: 'charge_automatically' | 'send_invoice';
  attemptCount: number;
  /** When Stripe itself will next try to charge (unix seconds), if its automatic retries are on. */
  nextPaymentAttempt?: number;
  livemode: boolean;
  /** Unix seconds, Stripe's clock. */
  created: number;
  /** Paid, but not through Stripe: marked paid out of band, or settled by a credit balance. */
  paidOffStripe: boolean;
  /** The invoice's own default payment method (it comes before the subscription's and the customer's). */
  defaultPaymentMethod?: string;
  /**
   * Why the invoice's latest payment attempt failed, as its payment intent records it
   * (`last_payment_error`). Read only when asked for (`withPaymentError`); absent when there was none.
   */
  lastPaymentError?: PaymentFailure;
  /** The customer's locale, zone and country, from the same request. Read only when asked for (`withCustomer`). */
  customerPreferences?: CustomerPreferences;
  /**
   * The payment method a charge that names none takes, in Stripe's order: the invoice's own default,
   * the subscription's, then the customer's invoice default and default source; null when there is
   * none (the customer removed it). From the same request; read only when asked for (`withPaymentMethod`).
   */
  paymentMethod?: string | null;
  /** What a segment of the policy file matches on (as `getInvoicePlan`). Read only when asked for (`withPlan`). */
  plan?: InvoicePlan;
  /**
   * The status of the invoice's subscription now, from the same request: present when the read
   * brought the subscription along (`withSubscription`, `withPaymentMethod`, `withPlan`).
   */
  subscriptionStatus?: SubscriptionStatus;
  /**
   * True when the subscription was cancelled by this product's own end action (its cancel says so
   * in `cancellation_details.comment`); present with `subscriptionStatus`.
   */
  subscriptionCanceledByDunning?: boolean;
}

/**
 * What a read of an invoice brings along in the same request, so a use case asks Stripe once:
 * `expectPaid` (the caller has Stripe's word that it is paid, e.g. `invoice.paid`) how it was paid,
 * `withPaymentError` why its latest attempt failed, `withCustomer` the customer's preferences,
 * `withPaymentMethod` the card a charge would take, `withPlan` the plan a segment matches on,
 * `withSubscription` its subscription's status.
 */
export interface InvoiceReadOptions {
  expectPaid?: boolean;
  withPaymentError?: boolean;
  withCustomer?: boolean;
  withPaymentMethod?: boolean;
  withPlan?: boolean;
  withSubscription?: boolean;
}

/** A failed payment attempt, in Stripe's terms (a card error, or a payment intent's last_payment_error). */
export interface PaymentFailure {
  /** Stripe's error code: `card_declined`, `expired_card`, `authentication_required`… */
  code?: string;
  /** The issuer's reason, for a decline: `insufficient_funds`, `stolen_card`… */
  declineCode?: string;
  /** The issuer's advice on retrying: `try_again_later`, `do_not_try_again`, `confirm_card_data`. */
  adviceCode?: string;
  /** The card network's own decline code, when the network declined it. */
  networkDeclineCode?: string;
  /**
   * The card network's advice, two digits (`network_advice_code`): Mastercard's merchant advice codes
   * ("01" new account information, "02" try again later, "03" do not try again, "21" payment
   * cancelled, "24"–"30" retry after a set time).
   */
  networkAdviceCode?: string;
  /** The brand of the card charged (`visa`, `mastercard`, `amex`…), when Stripe said. */
  cardBrand?: string;
  /**
   * The charge's `outcome`, when Stripe returned the charge: `type` (`issuer_declined`, `blocked`,
   * `invalid`), `reason` (e.g. `highest_risk_level`) and `network_status` (`declined_by_network`,
   * `not_sent_to_network`).
   */
  outcomeType?: string;
  outcomeReason?: string;
  networkStatus?: string;
  /** The payment method the attempt charged. */
  paymentMethod?: string;
  message?: string;
}

/**
 * The decline code of a charge that found nothing to charge: the customer has no default payment
 * method (they removed it). Not a Stripe decline code: Stripe refuses the request instead.
 */
export const NO_PAYMENT_METHOD = 'no_payment_method';

/**
 * Stripe's decline code for a bank's request that the customer authenticate (3-D Secure)
 * (docs.stripe.com/declines/codes): an off-session charge of the card cannot succeed.
 */
export const AUTHENTICATION_REQUIRED = 'authentication_required';

/**
 * The decline code of a charge of a card the customer has detached: it can never pay again
 * (docs.stripe.com/api/payment_methods/detach). Not a Stripe decline code: Stripe refuses the request
 * ("…or was detached from a Customer. It may not be used again."), and a case blocks the card under it.
 */
export const PAYMENT_METHOD_DETACHED = 'payment_method_detached';

/** Stripe's subscription statuses; an unknown future one is passed through and treated as live. */
export type SubscriptionStatus =
  | 'active'
  | 'trialing'
  | 'past_due'
  | 'unpaid'
  | 'paused'
  | 'incomplete'
  | 'incomplete_expired'
  | 'canceled'
  | (string & {});

export type PayOutcome =
  | { outcome: 'paid' }
  | ({ outcome: 'declined'; code: string; message: string } & Omit<PaymentFailure, 'code' | 'message' | 'paymentMethod'>);

/** The Stripe customer metadata key the customer's IANA time zone is read from, e.g. "Europe/Paris". */
export const TIME_ZONE_METADATA_KEY = 'time_zone';

export interface CustomerPreferences {
  /** The first of Stripe's `preferred_locales`. */
  locale?: string;
  /** `metadata.time_zone`, only if Intl knows the zone. */
  timeZone?: string;
  /** The country of the customer's address (ISO 3166-1 alpha-2), for their zone when they gave none. */
  country?: string;
}

/** Stripe's invoices: read one, pay it, give up on it, and what its lines bought. */
export interface Invoices {
  /** One request, whatever `options` bring along (InvoiceReadOptions), but for a paid invoice's way of payment when `expectPaid` was not asked. */
  getInvoice(invoiceId: string, options?: InvoiceReadOptions): Promise<InvoiceSnapshot>;
  /**
   * Pays off-session with `paymentMethod`, or else the customer's current default payment method.
   * Idempotent per key.
   */
  payInvoice(invoiceId: string, idempotencyKey: string, paymentMethod?: string): Promise<PayOutcome>;
  markInvoiceUncollectible(invoiceId: string, idempotencyKey: string): Promise<void>;
  /**
   * What a segment of the policy file can match on: the invoice's prices and products, their
   * recurring intervals and metadata, and the subscription's metadata.
   */
  getInvoicePlan(invoiceId: string, subscriptionId: string): Promise<InvoicePlan>;
}

/** Stripe's subscriptions: their status and plan, and the end actions. */
export interface Subscriptions {
  cancelSubscription(subscriptionId: string, idempotencyKey: string): Promise<void>;
  /** Sets cancel_at_period_end on the subscription. */
  cancelSubscriptionAtPeriodEnd(subscriptionId: string, idempotencyKey: string): Promise<void>;
  /** Pauses collection: new invoices stay drafts until collection is resumed. */
  pauseCollection(subscriptionId: string, idempotencyKey: string): Promise<void>;
  /** The subscription's status as Stripe holds it now (an event's copy may be stale). */
  getSubscriptionStatus(subscriptionId: string): Promise<SubscriptionStatus>;
  /** The same as `Invoices.getInvoicePlan`, before there is an invoice (pre-dunning): from the subscription's items and their prices. */
  getSubscriptionPlan(subscriptionId: string): Promise<InvoicePlan>;
  /**
   * The customer's subscriptions that have not ended (any status but canceled and
   * incomplete_expired), by id: the access API answers for each, not only the ones in dunning.
   */
  listLiveSubscriptions(customerId: string): Promise<string[]>;
}

/** Stripe's customers: who they are, their cards, and their renewals. */
export interface Customers {
  /** The customer's preferred locale and time zone, as far as Stripe knows them. */
  getCustomerPreferences(customerId: string): Promise<CustomerPreferences>;
  /** Who to write to; undefined for a deleted customer. */
  getCustomerContact(customerId: string): Promise<CustomerContact | undefined>;
  /**
   * The payment method Stripe charges for the subscription's invoices when none is named: the
   * subscription's default, else the customer's invoice default, else the customer's default source.
   * Undefined when there is none (the customer removed it): a pay would have nothing to charge.
   */
  getDefaultPaymentMethod(customerId: string, subscriptionId?: string): Promise<string | undefined>;
  /**
   * The card a renewal will charge, as Stripe picks it: the subscription's default payment method,
   * else the customer's, else the customer's default source. Undefined when none is a card.
   */
  getRenewalCard(customerId: string, subscriptionId?: string): Promise<RenewalCard | undefined>;
  /**
   * A fresh billing portal session on the payment-method-update flow, which returns to `returnUrl`
   * once the card is saved. Its URL lives minutes: open it at once, never put it in an email.
   */
  createPaymentUpdateUrl(customerId: string, returnUrl: string): Promise<string>;
  /** The customer's subscriptions that renew with an automatic charge: when, and for how much. */
  listRenewals(customerId: string): Promise<Renewal[]>;
}

/** Every Stripe port at once, as the Stripe adapter provides them: for wiring only. */
export type PaymentGateway = Invoices & Subscriptions & Customers;

export interface RenewalCard {
  /** pm_… or, for a legacy source, card_… */
  id: string;
  expMonth: number;
  expYear: number;
}

export interface CustomerContact {
  email?: string;
  name?: string;
  locale?: string;
}

export interface Renewal {
  subscriptionId: string;
  /** Unix seconds, Stripe's clock. */
  renewsAt: number;
  amount: Money;
}
