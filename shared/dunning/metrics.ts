// The business metrics, in one place: the code emits exactly these, and the CDK dashboard and alarms
// read this same constant, so a renamed metric or dimension breaks the build instead of a graph.
import type { RecoveredBy } from '../domain/case.ts';
import type { MetricName } from '../domain/metrics.ts';
import type { MetricsSink } from '../domain/ports.ts';

/** CloudWatch namespace of every business metric (Powertools Metrics, as EMF). */
export const METRICS_NAMESPACE = 'Dunning';

/**
 * The `service` dimension Powertools puts on every metric. One value for all functions: a recovery
 * counted by the webhook and one counted by close-case are the same series.
 */
export const METRICS_SERVICE = 'dunning';

export { DUNNING_METRICS, type DimensionOf, type MetricArgs, type MetricName, type MetricSpec } from '../domain/metrics.ts';
export type { MetricsSink } from '../domain/ports.ts';

/** One emitted data point, as a sink receives it. */
export interface MetricDatum {
  readonly name: MetricName;
  readonly value: number;
  readonly dimensions: Readonly<Record<string, string>>;
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
