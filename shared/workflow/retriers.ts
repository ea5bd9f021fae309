// The Retry blocks every Task of the definition carries: how Step Functions retries a stage's
// transient faults, never its permanent ones, and the pause polling of an earlier version's stages.
import { CaseClosedError, CasePausedError, PATIENT_ERRORS, PERMANENT_ERRORS, TRANSIENT_ERRORS } from '../domain/errors.ts';
import { PAUSE_CAP_DAYS, PAUSE_POLL_SECONDS } from '../domain/pause-limits.ts';

type Json = Record<string, unknown>;

export const SECONDS_PER_DAY = 86_400;

export interface RetrySettings {
  /** First backoff interval for transient errors (seconds). */
  intervalSeconds: number;
  maxAttempts: number;
  backoffRate: number;
  maxDelaySeconds: number;
}

export const DEFAULT_RETRY: RetrySettings = {
  intervalSeconds: 5,
  maxAttempts: 6,
  backoffRate: 2,
  maxDelaySeconds: 300,
};

/** Stripe, SES and DynamoDB trouble, plus Lambda's own transient faults: back off with full jitter. */
export function transientRetrier(retry: RetrySettings): Json {
  return {
    ErrorEquals: [
      ...TRANSIENT_ERRORS,
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
    ],
    IntervalSeconds: retry.intervalSeconds,
    MaxAttempts: retry.maxAttempts,
    BackoffRate: retry.backoffRate,
    MaxDelaySeconds: retry.maxDelaySeconds,
    JitterStrategy: 'FULL',
  };
}

/**
 * A rate limit, ours (the request budget) or Stripe's and SES's own: wait and try again, for as long
 * as a burst can take to drain. 2 s doubling to a minute, with full jitter so the waiting cases do
 * not come back together; 600 attempts is over 8 hours at the cap. A case that waits is late, never
 * flagged, unless the limit holds for that long (then something is wrong with the settings, and a
 * person should look). Each attempt adds a handful of history events: 600 stay far under the
 * 25,000 a Standard execution may have.
 */
export const PATIENT_RETRY = { intervalSeconds: 2, backoffRate: 2, maxDelaySeconds: 60, maxAttempts: 600 } as const;

export function patientRetrier(): Json {
  return {
    ErrorEquals: [...PATIENT_ERRORS],
    IntervalSeconds: PATIENT_RETRY.intervalSeconds,
    MaxAttempts: PATIENT_RETRY.maxAttempts,
    BackoffRate: PATIENT_RETRY.backoffRate,
    MaxDelaySeconds: PATIENT_RETRY.maxDelaySeconds,
    JitterStrategy: 'FULL',
  };
}

/** Errors retrying cannot fix, and the closed case, are never retried (matched before States.ALL). */
export function permanentRetrier(): Json {
  return { ErrorEquals: [CaseClosedError.name, ...PERMANENT_ERRORS], MaxAttempts: 0 };
}

/**
 * A case an operator paused, as a stage of an earlier version reports it (it throws CasePausedError;
 * this version's return `paused`, and wait in `<stage>Paused`): look again every hour, for as long as
 * a pause can last (it ends at most PAUSE_CAP_DAYS after the case opened), plus a day's margin.
 * Kept so that a rollback of the functions under a running execution still pauses. Matched before States.ALL.
 */
export function pausedRetrier(): Json {
  return {
    ErrorEquals: [CasePausedError.name],
    IntervalSeconds: PAUSE_POLL_SECONDS,
    MaxAttempts: ((PAUSE_CAP_DAYS + 1) * SECONDS_PER_DAY) / PAUSE_POLL_SECONDS,
    BackoffRate: 1,
  };
}

/** Anything else, e.g. a Lambda that crashed or timed out: a couple of tries, then the execution fails. */
export function crashRetrier(): Json {
  return { ErrorEquals: ['States.ALL'], IntervalSeconds: 10, MaxAttempts: 2, BackoffRate: 2, JitterStrategy: 'FULL' };
}
