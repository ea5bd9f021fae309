// The business metrics, in one place: the code emits exactly these, and the CDK dashboard and alarms
// read this same constant, so a renamed metric or dimension breaks the build instead of a graph.

/** CloudWatch namespace of every business metric (Powertools Metrics, as EMF). */
export const METRICS_NAMESPACE = 'Dunning';

/**
 * The `service` dimension Powertools puts on every metric. One value for all functions: a recovery
 * counted by the webhook and one counted by close-case are the same series.
 */
export const METRICS_SERVICE = 'dunning';

export interface MetricSpec {
  /** `Count`, or `None` for an amount (minor units of a currency). */
  readonly unit: 'Count' | 'None';
  /** The one dimension (besides `service`) the metric is emitted with, if any. */
  readonly dimension?: string;
  readonly description: string;
}

export const DUNNING_METRICS = {
  CaseOpened: { unit: 'Count', description: 'A failed renewal opened a dunning case' },
  NoticeSent: { unit: 'Count', dimension: 'Stage', description: 'An email reached SES: a policy notice, the action-required notice, or a closing email' },
  NoticeUndeliverable: { unit: 'Count', description: 'A notice could not be sent: no address in Stripe, or SES rejected it for good' },
  RetryAttempted: { unit: 'Count', description: 'A payment was attempted: a retry stage, or a new card' },
  RetrySucceeded: { unit: 'Count', description: 'A payment attempt paid the case' },
  RetryDeclined: { unit: 'Count', description: 'A payment attempt was declined' },
  CaseRecovered: { unit: 'Count', dimension: 'RecoveredBy', description: 'A case was paid, and by which route' },
  RecoveredAmount: { unit: 'None', dimension: 'Currency', description: 'Money recovered, in minor units of the currency' },
  CaseTerminated: { unit: 'Count', description: 'Every retry failed; the end action ran' },
  NeedsAttention: { unit: 'Count', description: 'A stage failed for good; a person must look at the case' },
  OpenCases: {
    unit: 'Count',
    dimension: 'Stage',
    description: 'A gauge, counted every few minutes: the cases open now, at the last stage that acted on each (Opened before any)',
  },
  CaseClosedOutside: { unit: 'Count', description: 'A case ended outside the product: subscription canceled, invoice voided' },
  WebhookAccepted: { unit: 'Count', description: 'A signed Stripe event was taken and processed (or was a duplicate)' },
  WebhookRejected: { unit: 'Count', dimension: 'Reason', description: 'A webhook delivery was not taken; Reason says why' },
  EmailDelivered: { unit: 'Count', description: 'SES reported a dunning email delivered to the recipient\'s mail server' },
  EmailBounced: { unit: 'Count', description: 'SES reported a bounce of a dunning email' },
  EmailComplained: { unit: 'Count', description: 'A recipient marked a dunning email as spam' },
  EmailRejected: { unit: 'Count', description: 'SES refused to send a dunning email (e.g. a virus scan)' },
  EmailSuppressed: { unit: 'Count', description: 'An address got no more email after a hard bounce or a complaint' },
  EmailEventUnusable: { unit: 'Count', description: 'An SES event notification could not be used and was dropped' },
  PreDunningSent: { unit: 'Count', description: 'A heads-up went out before a renewal the card on file cannot pay' },
  PreDunningCancelled: { unit: 'Count', description: 'Stripe updated the card automatically: the heads-up was not needed' },
  EventIgnored: { unit: 'Count', description: 'A valid event needed no action (no case, stale, other mode)' },
  EventUnusable: { unit: 'Count', description: 'An EventBridge event could never be processed and was dropped' },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof DUNNING_METRICS;

/** The dimension name of metric `N`, or `never` for a metric without one. */
export type DimensionOf<N extends MetricName> = (typeof DUNNING_METRICS)[N] extends { dimension: infer D extends string } ? D : never;

/** What follows the name in `MetricsSink.count`: the dimension (when the metric has one), then the value. */
export type MetricArgs<N extends MetricName> = [DimensionOf<N>] extends [never]
  ? [value?: number]
  : [dimensions: Readonly<Record<DimensionOf<N>, string>>, value?: number];

/** One emitted data point, as a sink receives it. */
export interface MetricDatum {
  readonly name: MetricName;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Business metrics. In Lambda they go to CloudWatch through Powertools Metrics (EMF). */
export interface MetricsSink {
  /** Adds `value` (1 by default) to metric `name`, under its dimension when it has one. */
  count<N extends MetricName>(name: N, ...args: MetricArgs<N>): void;
}

/** Normalizes `count`'s arguments into one datum. */
export function metricDatum(name: MetricName, args: readonly unknown[]): MetricDatum {
  const [first, second] = args;
  if (typeof first === 'object' && first !== null) {
    return { name, dimensions: first as Record<string, string>, value: typeof second === 'number' ? second : 1 };
  }
  return { name, dimensions: {}, value: typeof first === 'number' ? first : 1 };
}

export const noMetrics: MetricsSink = { count() {} };

/**
 * Why a webhook delivery was not taken (the `Reason` of `WebhookRejected`). A `signature_invalid`
 * burst is alarmed on: a rotated signing secret not updated here, or someone probing the endpoint.
 */
export const WEBHOOK_REJECTION_REASONS = [
  'method_not_allowed',
  'body_too_large',
  'signature_missing',
  'signature_invalid',
  'body_not_json',
  'not_an_event',
  'unusable_event',
  'in_progress',
  'processing_failed',
] as const;
export type WebhookRejectionReason = (typeof WEBHOOK_REJECTION_REASONS)[number];

/** Every `RecoveredBy` value: the dashboard graphs each (it lives with the type, in the domain). */
export { RECOVERY_ROUTES } from '../domain/case.ts';

/**
 * The `Stage` of a `NoticeSent` that is not a policy notice stage: the action-required notice, and
 * the closing emails (the confirmation after a recovery, the termination notice).
 */
export const EMAIL_STAGES_OUTSIDE_POLICY = ['ActionRequired', 'Recovered', 'Terminate'] as const;
