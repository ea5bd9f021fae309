// What a case records of its charges and their failures, as the retry rules (shared/retries/) read
// them: pure types, kept here so the case record can hold them.

/**
 * - hard: this card will never be approved; it is not charged again (a new card is).
 * - retry_later: it may be approved later; `timing` says when to try.
 * - needs_customer: only the customer can fix it (authenticate, correct or renew the card).
 * - no_payment_method: there is nothing to charge.
 * - processing_error: a fault between Stripe, the network and the issuer; try again after a pause.
 */
export type DeclineClass = 'hard' | 'retry_later' | 'needs_customer' | 'no_payment_method' | 'processing_error';

/**
 * When a retryable failure should be tried again:
 * - payday: the money is short; aim at the customer's next likely payday.
 * - backoff: the issuer asked for time; wait longer after each such decline.
 * - after: the network named a wait (`afterHours`).
 * - standard: no reason to move it; the policy's day, inside business hours.
 */
export type RetryTimingHint = 'payday' | 'backoff' | 'after' | 'standard';

export interface Classification {
  class: DeclineClass;
  /** The most specific code: the decline code, else the error code (`no_payment_method` when there was no card). */
  code: string;
  /** Why, in a few words, naming what Stripe returned: "insufficient_funds", "do_not_try_again from the issuer". */
  reason: string;
  /** Retryable classes only. */
  timing?: RetryTimingHint;
  /** With `timing: "after"`: the least wait the network asked for. */
  afterHours?: number;
  /** The card must not be charged again until the customer changes it (or the bank reissues it). */
  stopsCard: boolean;
}

/** A charge of a case's invoice, by anyone: the record the caps and the back-off count. */
export interface ChargeAttempt {
  /** When, in the case's business clock (ISO 8601). */
  at: string;
  /** Who charged: our retry stage, Stripe's own attempt, our charge of a new card, an operator's retry-now. */
  by: 'workflow' | 'stripe' | 'card_update' | 'operator';
  outcome: 'paid' | 'declined';
  /** The payment method charged, when known. */
  card?: string;
  brand?: string;
  /** For a decline: how it was classified. */
  failure?: Classification;
  /** For a planned retry: the moment it was planned for. */
  plannedFor?: string;
}

/** The reason class of a decision: a dimension of the RetryScheduled metric. */
export type RetryReasonClass = 'standard' | 'payday' | 'backoff' | 'after' | 'hard' | 'needs_customer' | 'no_payment_method' | 'cap' | 'no_window';

