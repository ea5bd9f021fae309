// A dunning case: one failed invoice, from the first failure until it is recovered or ends.
import type { ChargeAttempt, RetryReasonClass } from './retry-records.ts';
/**
 * open: being dunned. recovered: paid. terminated: every retry failed and the end action ran.
 * closed: ended from outside (subscription canceled, invoice voided, customer deleted).
 * needs_attention: a stage failed for good; a payment still recovers it.
 */
export type CaseStatus = 'open' | 'recovered' | 'terminated' | 'closed' | 'needs_attention';

/** How a case was recovered, recorded for reporting. */
/**
 * How the money came in: our scheduled retry, our charge right after a new card, Stripe's own
 * automatic retry, the customer paying through Stripe (the hosted invoice page), marked paid outside
 * Stripe, or paid in Stripe in a way not yet known (a stage saw it before the webhook: refined then).
 */
export type RecoveredBy = 'workflow_retry' | 'card_updated' | 'stripe_retry' | 'customer_payment' | 'out_of_band' | 'invoice_paid';

/** Every `RecoveredBy` value, for the dashboard and the recovery-rate math (which cannot SEARCH). */
export const RECOVERY_ROUTES = [
  'workflow_retry',
  'card_updated',
  'stripe_retry',
  'customer_payment',
  'out_of_band',
  'invoice_paid',
] as const satisfies readonly RecoveredBy[];
// Fails to compile when a route is added to RecoveredBy and not here.
const everyRoute: Exclude<RecoveredBy, (typeof RECOVERY_ROUTES)[number]> extends never ? true : false = true;
void everyRoute;

export interface Money {
  /** Integer amount in the currency's smallest unit (cents, pence, yen). */
  amount: number;
  /** ISO 4217 code, lower case as Stripe sends it. */
  currency: string;
}

export interface DunningCase {
  invoiceId: string;
  customerId: string;
  subscriptionId: string;
  status: CaseStatus;
  /**
   * The named policy the case runs (see the policy file's `segments`), chosen when it opened.
   * Absent on cases opened before there could be several: they run `default`.
   */
  policy?: string;
  /** The last stage that acted (a policy stage id, or Terminate). */
  stage?: string;
  /**
   * How many stage invocations have begun on this case. Each one's Stripe idempotency keys include
   * it: Stripe replays a saved 500 for a reused key, so a retry after a 5xx needs a new key.
   */
  stageRuns?: number;
  amountDue: Money;
  invoiceNumber?: string;
  hostedInvoiceUrl?: string;
  customerEmail?: string;
  customerName?: string;
  /** Stripe's preferred locale for the customer, when known. */
  customerLocale?: string;
  /**
   * The customer's IANA time zone, from the Stripe customer's `metadata.time_zone` when it is a zone
   * Intl knows. Stripe customers have no time-zone field; without one, dates use the policy's zone.
   */
  customerTimeZone?: string;
  /** The country of the customer's address (ISO 3166-1 alpha-2), for their time zone when they gave none. */
  customerCountry?: string;
  /**
   * Every charge of the case's invoices the product knows of: the renewal's own attempt, Stripe's
   * later ones, our retries, the charge of a new card. The network caps and the back-off count them.
   */
  chargeAttempts?: ChargeAttempt[];
  /** The next retry as last planned: when (in the case's business clock), or why there is none. */
  nextRetry?: NextRetry;
  /**
   * Local runtime only (a compressed clock): the wall instant the last stage started and the
   * business moment it was due, which the case's clock counts from (shared/domain/case-clock.ts).
   */
  clockAnchor?: { wall: string; business: string };
  livemode: boolean;
  /** When the payment failed, in Stripe's clock (ISO 8601). Business dates count from here. */
  failedAt: string;
  /** The date the subscription ends if nothing is paid (ISO 8601, failedAt + policy end day). */
  terminatesAt: string;
  executionName: string;
  executionArn?: string;
  /**
   * A card that hard-declined or needs the customer's authentication: it is not charged again, and
   * a new card lifts the block.
   */
  blockedPaymentMethod?: { id: string; code: string; at: string };
  /**
   * Later invoices of the same subscription that failed while this case was open. They join it, so
   * the customer gets one sequence; retries pay every open one, and the case recovers when all are.
   */
  extraInvoiceIds?: string[];
  /**
   * Stage ids whose notice has been claimed for sending, so a retried Lambda never sends twice; also
   * the claims of `alsoNotify` rules (`AlsoNotify…`) and of Stripe's own failed attempts that the
   * case has followed (`StripeAttempt2`, …), each once.
   */
  noticesSent: string[];
  recoveredBy?: RecoveredBy;
  closedAt?: string;
  /** Why a case was closed from outside, e.g. "subscription canceled in Stripe". */
  closedReason?: string;
  /** Why the case needs attention: the error name and message. */
  error?: { name: string; message: string };
  /**
   * The customer's address hard-bounced or complained: no more email goes to it. The case stays
   * open (the banner and the retries go on); this flag says why the notices stopped arriving.
   */
  emailSuppressed?: { reason: SuppressionReason; at: string };
  /**
   * Paused by an operator until this time (ISO 8601): the stages send and charge nothing, and the
   * router's immediate actions (a new card's charge, notices after Stripe's attempts) stand down. A
   * payment still recovers the case. Absent, or in the past: not paused.
   */
  pausedUntil?: string;
  /** When an operator last reopened the flagged case to redrive its execution. */
  reopenedAt?: string;
  /**
   * The customer's access while the case is open, as last changed (policy `access`): set when the
   * case opens and by the notice that changes it. Absent on cases opened before access existed:
   * the policy's `onFailure` since the case was created. An ended case's access follows its status.
   */
  access?: CaseAccess;
  /**
   * The event keys of the once-only entries written so far (`recovered`, `access/end`,
   * `access/day-7`): a call that finds a close or an access change made but its key missing here
   * writes the entry the call before it died without. Absent on cases opened before events existed.
   */
  eventsRecorded?: string[];
  createdAt: string;
  updatedAt: string;
}

/** What a case's customer may use while it is open, and since when (ISO 8601, as stored). */
export interface CaseAccess {
  level: 'full' | 'grace' | 'limited' | 'none';
  since: string;
  /** Why, in words: `payment failed`, `day 7 of dunning`. */
  reason: string;
  /** The policy day of the change (0: the failure), so the next change is known. */
  day?: number;
}

/** The plan for a case's next retry stage, for people to read (`dunning case`, the console). */
export interface NextRetry {
  stage: string;
  /** When it will charge (ISO 8601, the case's business clock); absent when it is skipped. */
  at?: string;
  reason: string;
  reasonClass: RetryReasonClass;
  /** When it was planned (ISO 8601, the case's business clock). */
  plannedAt: string;
}

export type TimelineEntryType =
  | 'case_opened'
  | 'invoice_joined'
  | 'invoice_paid'
  | 'stripe_attempt_failed'
  | 'execution_started'
  | 'notice_sent'
  | 'notice_undeliverable'
  | 'retry_paid'
  | 'retry_declined'
  | 'retry_skipped'
  // When the next retry will charge and why (the customer's window, a payday, a back-off, a cap).
  | 'retry_scheduled'
  // A card that hard-declined or needs authentication is not charged again (the why in `detail`).
  | 'card_blocked'
  // Stripe updated a blocked card in place (the bank reissued it): it may be charged again.
  | 'card_unblocked'
  // The customer removed a card (detached it, or cleared their default): the card in `detail`.
  | 'card_removed'
  | 'recovered'
  | 'confirmation_sent'
  | 'execution_stopped'
  | 'end_action'
  | 'terminated'
  | 'closed'
  | 'flagged'
  // An operator reopened the flagged case and redrove its failed execution.
  | 'redriven'
  // A Stripe event the router acted on for this case (its type in `detail`, its id in `eventId`).
  | 'event_received'
  // The same, for an event an operator ran through the router again (the CLI's `replay`).
  | 'event_replayed'
  // An operator's hand on the case (the operator CLI).
  | 'paused'
  | 'resumed'
  // An internal address of the policy file's alsoNotify was told about the case.
  | 'also_notified'
  // What SES reported about an email the case sent (configuration set event destinations).
  | 'email_delivered'
  | 'email_bounced'
  | 'email_complained'
  | 'email_rejected'
  | 'email_opened'
  | 'email_clicked'
  | 'email_suppressed'
  // An operator lifted the address's suppression: its notices go out again.
  | 'email_unsuppressed'
  // The customer's access changed (policy `access`): the level in `detail`, the change in `facts`.
  | 'access_changed';

export interface TimelineEntry {
  at: string;
  type: TimelineEntryType;
  stage?: string;
  /** Short human-readable detail, e.g. the email subject or the decline code. Never an address. */
  detail?: string;
  /** The SES message id of the email this entry records (`notice_sent`). */
  messageId?: string;
  /** The Stripe event this entry records (`event_received`, `event_replayed`). */
  eventId?: string;
  /**
   * What the event this entry publishes says beyond the case's own fields (shared/events/): a
   * retry's outcome and decline class, an access change's levels. Never an address or a card.
   */
  facts?: Record<string, string | number | boolean | null>;
  /**
   * For an entry a case has once (its close, an access change of a policy day): the key its event id
   * is made of, instead of the item's own, so a copy written by a retry after a crash publishes the
   * same `eventId` and consumers dedupe it.
   */
  eventKey?: string;
}

/** Why an address gets no more email: it hard-bounced, or its owner marked our email as spam. */
export type SuppressionReason = 'bounce' | 'complaint';

/** An address that gets no more email. Stored under a hash of the address, never the address. */
export interface EmailSuppression {
  reason: SuppressionReason;
  at: string;
  /** The SES detail, e.g. "Permanent/General" or "abuse". */
  detail?: string;
  /** The case whose email caused it, when known. */
  invoiceId?: string;
}


/**
 * How urgent a banner is, for the site to style it: it escalates with the sequence (see
 * `bannerSeverity` in shared/dunning/banner.ts).
 */
export type BannerSeverity = 'info' | 'warning' | 'critical';

/**
 * The stage name of the pre-dunning heads-up: its email tag, its banner's stage, its log key. Here,
 * not in shared/dunning/pre-dunning.ts, so the banner API can know it without bundling the heads-up.
 */
export const PRE_DUNNING_STAGE = 'PreDunning';

/** The banner a customer sees in My Account while a case is open, as the stage that wrote it rendered it. */
export interface Banner {
  customerId: string;
  invoiceId: string;
  /** The policy stage id (Notice1…) or ActionRequired. */
  stage: string;
  severity: BannerSeverity;
  headline: string;
  body: string;
  /** The one-click update link, or the hosted invoice page when the bank wants a confirmation. */
  action: { label: string; url: string };
  /** When the subscription ends if nothing is paid (ISO 8601). */
  terminatesAt: string;
  createdAt: string;
  /** When the banner stops showing by itself (a pre-dunning heads-up ends at the renewal). */
  expiresAt?: string;
}

/**
 * The pre-dunning heads-up about one of a customer's cards: which renewals it was sent for, and
 * whether Stripe's card account updater has since renewed the card.
 */
export interface HeadsUpRecord {
  customerId: string;
  cardId: string;
  /** `<subscription>@<renewal unix seconds>` of each heads-up claimed; at most one send each. */
  claims: string[];
  /** When the last heads-up was claimed. */
  claimedAt?: string;
  /** The banner the last heads-up set, if any (its notice id), so a cancel can clear it. */
  bannerId?: string;
  /** The card's expiry (`YYYY-MM`) after Stripe updated it automatically: no heads-up is due for older reads. */
  updatedExpiry?: string;
  /** When Stripe last updated the card automatically. */
  cardUpdatedAt?: string;
}
