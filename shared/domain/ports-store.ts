// The store's ports, one per role, as the one DynamoDB table provides them (shared/adapters/dynamodb/
// holds an adapter per port). A use case names the few it uses, e.g. `store: Cases & Timeline`.
import type { Banner, CaseAccess, CaseStatus, DunningCase, EmailSuppression, HeadsUpRecord, NextRetry, RecoveredBy, TimelineEntry } from './case.ts';
import type { ChargeAttempt } from './retry-records.ts';

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
  closeCase(invoiceId: string, status: Exclude<CaseStatus, 'open'>, details: ClosingDetails): Promise<DunningCase | undefined>;
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

/** What a close records on the case, and the statuses it may close from. */
export interface ClosingDetails {
  now: string;
  recoveredBy?: RecoveredBy;
  error?: { name: string; message: string };
  reason?: string;
  from?: readonly CaseStatus[];
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

/** What a case remembers of its charges, and of its next retry's plan. */
export interface RetryLedger {
  /** Appends a charge attempt (ours, Stripe's, a new card's) to the case. */
  recordChargeAttempt(invoiceId: string, attempt: ChargeAttempt, now: string): Promise<void>;
  /** Records the plan for the next retry (or clears it). */
  setNextRetry(invoiceId: string, plan: NextRetry | undefined, now: string): Promise<void>;
  /** Local runtime only: where the case's compressed clock counts from (`clockAnchor`). */
  setClockAnchor(invoiceId: string, anchor: NonNullable<DunningCase['clockAnchor']>): Promise<void>;
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
  /**
   * Appends `entry`. An entry with an `eventKey` is once-only on the case: false, and nothing
   * written, when the case already has an entry with that key (another call wrote it first).
   */
  appendTimeline(invoiceId: string, entry: TimelineEntry): Promise<boolean>;
  listTimeline(invoiceId: string): Promise<TimelineEntry[]>;
  /**
   * Notes on the case that its once-only entry `eventKey` (a close, a policy day's access change) is
   * written, so a call after a crash writes only what is missing (`DunningCase.eventsRecorded`).
   */
  markRecorded(invoiceId: string, eventKey: string): Promise<void>;
}

/** The customer's access while a case is open (policy `access`). */
export interface AccessRecords {
  /**
   * Moves an open case's access forward to `access`, a change of a later policy day than the one it
   * has: true for the call that moved it, false if it was there already or the case is not open.
   */
  setAccess(invoiceId: string, access: CaseAccess, now: string): Promise<boolean>;
}

/** A timeline entry that publishes an event, as the outbox holds it until it is published. */
export interface OutboxEntry {
  invoiceId: string;
  /** The timeline item's sort key: the event's id comes from it. */
  entryKey: string;
  entry: TimelineEntry;
}

/**
 * The timeline entries whose events are not published yet: each is written pending, in the same
 * write as the entry itself, and marked published once EventBridge took its event.
 */
export interface Outbox {
  /** The entry at this key, if it is still pending (undefined once published, or if there is none). */
  pendingEntry(invoiceId: string, entryKey: string): Promise<OutboxEntry | undefined>;
  /** Pending entries written (by the writer's wall clock) before `before` (ISO 8601), oldest first, at most `limit`. */
  pendingEntries(before: string, limit: number): Promise<OutboxEntry[]>;
  /** Takes a published entry out of the outbox; harmless twice. */
  markPublished(invoiceId: string, entryKey: string): Promise<void>;
}

/**
 * Every store port at once, as the one DynamoDB table provides them: for wiring only. A use case
 * names the ports it uses instead (e.g. `store: Cases & Timeline`).
 */
export type CaseStore = Cases & CaseQueries & CardBlocks & RetryLedger & CaseClaims & Banners & Suppressions & EmailEventClaims & HeadsUps & Timeline & AccessRecords & Outbox;
