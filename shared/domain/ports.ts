// The small interfaces the dunning logic talks through, one per role, so a use case's signature
// names what it touches. AWS and the local runtime provide the same adapters (DynamoDB, SES v2,
// Stripe); only endpoints differ. Step Functions is behind `Workflow`. Each interface stays at 12
// members or fewer (test/unit/ports.test.ts).
import type { InvoicePlan } from '../policy/segments.ts';
import type { Banner, CaseStatus, DunningCase, EmailSuppression, HeadsUpRecord, Money, RecoveredBy, TimelineEntry } from './case.ts';
import type { MetricArgs, MetricName } from './metrics.ts';

/** A case's lifecycle: open it, read it, follow its stages, close it. */
export interface Cases {
  /** Creates the case unless one exists for the invoice; never overwrites. */
  createCase(c: DunningCase): Promise<{ created: boolean; case: DunningCase }>;
  getCase(invoiceId: string): Promise<DunningCase | undefined>;
  /** The case an invoice belongs to: its own, or the one it joined. */
  findCaseOfInvoice(invoiceId: string): Promise<DunningCase | undefined>;
  /**
   * Adds a later failed invoice of the same subscription to an open case, with its amount. False if
   * the case is no longer open; joining twice is harmless.
   */
  joinInvoice(caseInvoiceId: string, invoiceId: string, amount: number, now: string): Promise<boolean>;
  /** Sets what is still owed on the case, after part of it was paid. */
  setAmountDue(invoiceId: string, amount: number, now: string): Promise<void>;
  setExecutionArn(invoiceId: string, executionArn: string, now: string): Promise<void>;
  /**
   * Records that `stage` is acting, only while the case is open, and counts the run (stageRuns).
   * Returns the updated case, or throws CaseClosedError when it is not open (CaseNotFoundError
   * when there is no case).
   */
  beginStage(invoiceId: string, stage: string, now: string): Promise<DunningCase>;
  /**
   * Moves a case from one of the `from` statuses (default: open) to `status`. Returns the case if
   * this call moved it, or undefined if it was not in a `from` status (so only one caller sends the
   * closing email).
   */
  closeCase(
    invoiceId: string,
    status: Exclude<CaseStatus, 'open'>,
    details: {
      now: string;
      recoveredBy?: RecoveredBy;
      error?: { name: string; message: string };
      reason?: string;
      from?: readonly CaseStatus[];
    },
  ): Promise<DunningCase | undefined>;
  /**
   * Puts a needs_attention case back to open (for a redrive of its execution), clearing its error
   * and recording `reopenedAt`. Returns the case if this call reopened it, undefined otherwise.
   */
  reopenCase(invoiceId: string, now: string): Promise<DunningCase | undefined>;
  /**
   * Replaces a recovered case's provisional `invoice_paid` with how it was really paid, once the
   * webhook tells. True if it changed; never overwrites a known way.
   */
  refineRecoveredBy(invoiceId: string, recoveredBy: RecoveredBy, now: string): Promise<boolean>;
  /**
   * Sets (or, with undefined, lifts) an operator's pause, only while the case is open. Returns the
   * updated case; throws CaseClosedError when it is not open, CaseNotFoundError when there is none.
   */
  setPause(invoiceId: string, pausedUntil: string | undefined, now: string): Promise<DunningCase>;
}

/** Lists of cases: for the console, the CLI, the open-cases gauge, and events that name a customer. */
export interface CaseQueries {
  /** Every case (a full-table scan: for the local runtime and a demo dashboard). */
  listCases(): Promise<DunningCase[]>;
  /** The open cases, newest first, without reading the closed ones. */
  listOpenCases(): Promise<DunningCase[]>;
  /** The customer's cases, newest first (an eventually consistent index). */
  listCasesOfCustomer(customerId: string): Promise<DunningCase[]>;
}

/** Cards a case must not charge again. */
export interface CardBlocks {
  /** Records a card that must not be charged again for this case. */
  blockPaymentMethod(invoiceId: string, block: { id: string; code: string; at: string }): Promise<void>;
  /** Lifts the block on that card (only if it is still the blocked one); false if it was not blocked. */
  unblockPaymentMethod(invoiceId: string, paymentMethodId: string, now: string): Promise<boolean>;
}

/** The once-only rights on a case: each stage email, each closing email, and the pay lock. */
export interface CaseClaims {
  /**
   * Claims the right to send the email of `stage`: succeeds once per stage and only while the case
   * is open. Returns false if it was already claimed; throws CaseClosedError when not open.
   */
  claimStageEmail(invoiceId: string, stage: string, now: string): Promise<boolean>;
  /** Gives a stage email's claim back after a send failed in a way worth retrying. */
  releaseStageEmail(invoiceId: string, stage: string, now: string): Promise<void>;
  /**
   * Claims a one-off email that follows a close (confirmation, termination): true exactly once.
   */
  claimClosingEmail(invoiceId: string, kind: 'confirmation' | 'termination', now: string): Promise<boolean>;
  releaseClosingEmail(invoiceId: string, kind: 'confirmation' | 'termination'): Promise<void>;
  /**
   * Takes the right to charge this case's invoice for `ttlMs`, so a retry stage and a card-update
   * retry never charge at the same moment. False if another holder has it and it has not expired.
   */
  acquirePayLock(invoiceId: string, holder: string, now: Date, ttlMs: number): Promise<boolean>;
  releasePayLock(invoiceId: string, holder: string): Promise<void>;
}

/** The My Account banner: one per customer, written by the stage (or heads-up) that rendered it. */
export interface Banners {
  putBanner(banner: Banner): Promise<void>;
  getBanner(customerId: string): Promise<Banner | undefined>;
  /** Clears the customer's banner if it belongs to this invoice's case. */
  clearBanner(customerId: string, invoiceId: string): Promise<void>;
}

/** Addresses that get no more email, and the case flag that says a case's address is one. */
export interface Suppressions {
  /** Stops email to an address (by its key, a hash). Keeps the first record if there is one. */
  suppressEmail(addressKey: string, suppression: EmailSuppression): Promise<void>;
  getEmailSuppression(addressKey: string): Promise<EmailSuppression | undefined>;
  /** Flags the case's address as suppressed; true only for the call that set the flag. */
  flagEmailSuppressed(invoiceId: string, flag: NonNullable<DunningCase['emailSuppressed']>): Promise<boolean>;
  /** Deletes an address's suppression; returns it, or undefined if there was none. */
  liftEmailSuppression(addressKey: string): Promise<EmailSuppression | undefined>;
  /** Removes a case's emailSuppressed flag (so a new bounce can flag it again); false if it had none. */
  clearEmailSuppressed(invoiceId: string, now: string): Promise<boolean>;
}

/** SES event notifications already handled: SNS delivers at least once. */
export interface EmailEventClaims {
  /** Claims one SES event notification: true exactly once per key. */
  claimEmailEvent(eventKey: string, now: Date): Promise<boolean>;
  releaseEmailEvent(eventKey: string): Promise<void>;
}

/** The pre-dunning heads-ups sent about a customer's cards. */
export interface HeadsUps {
  /**
   * Claims the pre-dunning heads-up for one renewal of one card (`claim` names the renewal), read
   * with expiry `expiry` (`YYYY-MM`). `already_claimed`: it was sent for this renewal. `card_updated`:
   * Stripe has since renewed the card to a later expiry, so the read was stale and nothing is due.
   */
  claimHeadsUp(customerId: string, cardId: string, claim: string, expiry: string, now: string): Promise<'claimed' | 'already_claimed' | 'card_updated'>;
  /** Gives a heads-up claim back after a send failed in a way worth retrying. */
  releaseHeadsUp(customerId: string, cardId: string, claim: string): Promise<void>;
  /** Remembers the banner a heads-up set. */
  setHeadsUpBanner(customerId: string, cardId: string, bannerId: string): Promise<void>;
  /**
   * Records that Stripe updated the card to expiry `expiry`, so no heads-up for the old expiry goes
   * out. Returns the record as it was before (undefined if none).
   */
  cancelHeadsUp(customerId: string, cardId: string, expiry: string, now: string): Promise<HeadsUpRecord | undefined>;
  getHeadsUp(customerId: string, cardId: string): Promise<HeadsUpRecord | undefined>;
}

/** What happened to a case, in order: what the console, the CLI and the operator read. */
export interface Timeline {
  appendTimeline(invoiceId: string, entry: TimelineEntry): Promise<void>;
  listTimeline(invoiceId: string): Promise<TimelineEntry[]>;
}

/**
 * Every store port at once, as the one DynamoDB table provides them: for wiring only. A use case
 * names the ports it uses instead (e.g. `store: Cases & Timeline`).
 */
export type CaseStore = Cases & CaseQueries & CardBlocks & CaseClaims & Banners & Suppressions & EmailEventClaims & HeadsUps & Timeline;

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
}

/** Stripe's invoices: read one, pay it, give up on it, and what its lines bought. */
export interface Invoices {
  /**
   * With `expectPaid` (the caller has Stripe's word that it is paid, e.g. `invoice.paid`), how it was
   * paid is read in the same request instead of a second one. With `withPaymentError`, why its
   * latest payment attempt failed (`lastPaymentError`), in the same request too.
   */
  getInvoice(invoiceId: string, options?: { expectPaid?: boolean; withPaymentError?: boolean }): Promise<InvoiceSnapshot>;
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

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Short tags for the SES configuration set's event destinations (stage, case). */
  tags: Record<string, string>;
}

export interface Mailer {
  /** Throws EmailThrottledError (retry) or EmailRejectedError (give up on this message). */
  send(message: EmailMessage): Promise<{ messageId: string }>;
}

export interface Workflow {
  /** Starts the case's execution; a second start with the same name returns the first one. */
  start(name: string, input: WorkflowInput): Promise<{ executionArn: string }>;
  /** Stops a running execution; does nothing if it has already ended. */
  stop(executionArn: string, cause: string): Promise<void>;
  /** The ARN the execution named `name` has (or would have) in this workflow's state machine. */
  executionArn(name: string): string;
  /** An execution's status now; undefined when it does not exist (or has aged out of Step Functions). */
  describe(executionArn: string): Promise<ExecutionReport | undefined>;
  /** The state an ended execution stopped in (the last state it entered), read from its history. */
  lastState(executionArn: string): Promise<string | undefined>;
  /**
   * Restarts a failed, timed-out or aborted execution from the state it stopped in, with that
   * state's input (Step Functions' RedriveExecution). Throws ExecutionNotRedrivableError when Step
   * Functions refuses (running, succeeded, older than 14 days) and ExecutionNotFoundError.
   */
  redrive(executionArn: string): Promise<void>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** What DescribeExecution says about an execution, as far as the product reads it. */
export interface ExecutionReport {
  executionArn: string;
  status: ExecutionStatus;
  /** How many times it was redriven: 0 until the first redrive. */
  redriveCount: number;
  /** Step Functions' word on whether RedriveExecution would accept it, and why not. */
  redrivable: boolean;
  redriveStatusReason?: string;
  /** The execution's input as it was started (JSON). */
  input?: string;
  error?: string;
  cause?: string;
}

/** The input of one execution. Kept small: stages read the case from the store. */
export interface WorkflowInput {
  invoiceId: string;
  /** The case's policy: a definition of several policies starts with a Choice on it. */
  policy?: string;
}

/** Counts uses of something (a link) in fixed windows, so one caller cannot hammer a costly path. */
export interface RateLimiter {
  /**
   * Takes one use of `key` in the window that holds `now`: true if fewer than `limit` were taken
   * there before this one, false (and nothing counted) once the window is full.
   */
  take(key: string, limit: number, windowMs: number, now: Date): Promise<boolean>;
}

/** Makes the one-click "update payment details" links: our own short link, never Stripe's. */
export interface PaymentLinks {
  /** A case's link, for its notices: it lives until the case's end (at most 30 days). */
  updatePaymentUrl(dunningCase: Pick<DunningCase, 'customerId' | 'invoiceId' | 'terminatesAt'>): Promise<string>;
  /**
   * A pre-dunning heads-up's link, before any case exists: bound to the customer and the renewal
   * (`renewsAt`, unix seconds, Stripe's clock) it warns about, and it lives until that renewal.
   */
  headsUpUrl(renewal: { customerId: string; subscriptionId: string; renewsAt: number }): Promise<string>;
}

/** A structured logger; Powertools Logger satisfies it. Extra objects become JSON keys. */
export interface Log {
  debug(message: string, ...extra: LogFields[]): void;
  info(message: string, ...extra: LogFields[]): void;
  warn(message: string, ...extra: LogFields[]): void;
  error(message: string, ...extra: LogFields[]): void;
}

/**
 * Keys for one log line. The ids go by these names everywhere: invoiceId, customerId, eventId (the
 * Stripe event), executionName, stage; then reason, outcome… Never an address (the logger masks any).
 */
export type LogFields = Record<string, string | number | boolean | undefined | null | object>;

/** Business metrics. In Lambda they go to CloudWatch through Powertools Metrics (EMF). */
export interface MetricsSink {
  /** Adds `value` (1 by default) to metric `name`, under its dimension when it has one. */
  count<N extends MetricName>(name: N, ...args: MetricArgs<N>): void;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
