// Errors the state machine tells apart. Each class sets `name`, which Lambda reports as the error
// type and Step Functions matches in Retry/Catch (aws-local-stepfunctions matches `name` too).

/** Stripe answered 429, 5xx, or did not answer in time. Retried with backoff. */
export class StripeUnavailableError extends Error {
  override name = 'StripeUnavailableError' as const;
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

/**
 * Stripe answered 429: this account's requests (ours and the merchant's own) are over Stripe's rate
 * limit. Retried patiently: the case is late, never flagged for it.
 */
export class StripeRateLimitedError extends Error {
  override name = 'StripeRateLimitedError' as const;
}

/**
 * Our own request budget (Stripe requests or emails per second, shared by every function) had no
 * room within the wait one call allows. Retried patiently: the case is late, never flagged for it.
 */
export class OverBudgetError extends Error {
  override name = 'OverBudgetError' as const;
}

/** Another charge of the same invoice is under way (a card-update retry). Retried with backoff. */
export class PaymentInProgressError extends Error {
  override name = 'PaymentInProgressError' as const;
}

/** SES throttled us or failed on its side. Retried with backoff. */
export class EmailThrottledError extends Error {
  override name = 'EmailThrottledError' as const;
}

/** SES refused this message for good (rejected, suppressed address). Not retried. */
export class EmailRejectedError extends Error {
  override name = 'EmailRejectedError' as const;
}

/** DynamoDB throttled or was unavailable. Retried with backoff. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError' as const;
}

/** The event bus refused a whole PutEvents call (throttled, 5xx, network): the outbox keeps the events. */
export class EventBusUnavailableError extends Error {
  override name = 'EventBusUnavailableError' as const;
}

/**
 * The case is no longer open (paid, terminated, flagged), so the stage must not act: this is how a
 * stop that races a running stage is made harmless. A stage function returns it as a result
 * (`closed`) to a definition that branches on results, and throws it only to an execution of an
 * earlier definition, which catches it and ends quietly (shared/workflow/stand-down.ts).
 */
export class CaseClosedError extends Error {
  override name = 'CaseClosedError' as const;
  constructor(
    readonly invoiceId: string,
    readonly status: string,
  ) {
    super(`case ${invoiceId} is ${status}; the stage does nothing`);
  }
}

/**
 * An operator paused the case (`dunning pause`): the stage sends and charges nothing. The state
 * machine runs the stage again every hour until the pause ends or is lifted, then it runs as
 * planned. Returned as `paused` to a definition that branches on results; thrown only to an
 * execution of an earlier definition, which retries it (shared/workflow/stand-down.ts).
 */
export class CasePausedError extends Error {
  override name = 'CasePausedError' as const;
  constructor(
    readonly invoiceId: string,
    readonly pausedUntil: string,
  ) {
    super(`case ${invoiceId} is paused until ${pausedUntil}; the stage waits`);
  }
}

/** A stage was invoked for an invoice with no case: a wiring bug, never retried. */
export class CaseNotFoundError extends Error {
  override name = 'CaseNotFoundError' as const;
  constructor(readonly invoiceId: string) {
    super(`no dunning case for invoice ${invoiceId}`);
  }
}

/** Stripe refused a request for a reason retrying cannot fix (bad key, missing object, bad params). */
export class StripeRequestError extends Error {
  override name = 'StripeRequestError' as const;
  constructor(
    message: string,
    readonly code?: string,
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

/** Input that does not parse: a bad webhook body, a malformed stage payload, a bad config. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError' as const;
}

/** Errors worth retrying with backoff, by name; the state machine's first retrier lists these. */
export const TRANSIENT_ERRORS: readonly string[] = [
  StripeUnavailableError.name,
  StoreUnavailableError.name,
  PaymentInProgressError.name,
];

/**
 * "Not now, later": a rate limit, ours or theirs. Retried for hours with capped backoff (the state
 * machine's patient retrier), since waiting is the cure and a burst can take a while to drain.
 */
export const PATIENT_ERRORS: readonly string[] = [OverBudgetError.name, StripeRateLimitedError.name, EmailThrottledError.name];

/** Errors that retrying cannot fix: the state machine fails the execution at once, at that stage. */
export const PERMANENT_ERRORS: readonly string[] = [CaseNotFoundError.name, StripeRequestError.name, InvalidInputError.name];

/**
 * The name of Powertools' IdempotencyAlreadyInProgressError: another delivery of the same event is
 * being processed. Named here, not imported, so the event routers stay free of Powertools; a unit
 * test holds it to the class's own name.
 */
export const IDEMPOTENCY_IN_PROGRESS_ERROR = 'IdempotencyAlreadyInProgressError';

/** Step Functions will not redrive this execution (running, succeeded, or past its 14 days). */
export class ExecutionNotRedrivableError extends Error {
  override name = 'ExecutionNotRedrivableError' as const;
}

/** No execution of the state machine has this ARN (never started, or aged out). */
export class ExecutionNotFoundError extends Error {
  override name = 'ExecutionNotFoundError' as const;
}
