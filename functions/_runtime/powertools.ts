// Powertools instances shared by every function, created once per Lambda container. The tracer
// lives in tracer.ts: the webhook leaves it (and the X-Ray SDK under it) out of its bundle.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { CaseClosedError, CasePausedError } from '#shared/domain/errors.ts';
import { maskEmailAddresses } from '#shared/domain/mask-email.ts';
import { DUNNING_METRICS, METRICS_NAMESPACE, METRICS_SERVICE, metricDatum, type MetricsSink } from '#shared/dunning/metrics.ts';

/**
 * The logger's JSON replacer: masks every email address in a log line, whatever key, message or
 * error carries it (an SES or Stripe error echoing the recipient, a case logged whole).
 */
export function maskAddresses(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.includes('@') ? maskEmailAddresses(value) : value;
}

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'dunning', jsonReplacerFn: maskAddresses });
/**
 * The `service` dimension is the same in every function (not the function's own service name), so
 * each business metric is one series per dimension value, whichever function emitted it.
 */
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  serviceName: METRICS_SERVICE,
});

/**
 * A metric without a dimension is buffered and flushed after the invocation. One with a dimension is
 * flushed at once as a single metric: EMF gives all the metrics of one blob the same dimensions, so
 * a buffered `Stage` would also split every other metric of the invocation.
 */
export const powertoolsMetrics: MetricsSink = {
  count(name, ...args) {
    const datum = metricDatum(name, args);
    const unit = DUNNING_METRICS[name].unit === 'Count' ? MetricUnit.Count : MetricUnit.NoUnit;
    const entries = Object.entries(datum.dimensions);
    if (entries.length === 0) {
      metrics.addMetric(name, unit, datum.value);
      return;
    }
    const single = metrics.singleMetric();
    for (const [dimension, value] of entries) single.addDimension(dimension, value);
    single.addMetric(name, unit, datum.value);
  },
};

/**
 * Wraps a handler with the Powertools chores: request context on every log line, metrics flushed
 * after each invocation, and one error line before a failure goes back to Step Functions or the URL.
 * A stage that stands down returns (shared/workflow/stand-down.ts) and logs at INFO; only for an
 * execution of an earlier definition does it still throw CaseClosedError or CasePausedError, which
 * are no failures either.
 */
const STAND_DOWN_ERRORS: ReadonlySet<string> = new Set([CaseClosedError.name, CasePausedError.name]);

export function instrument<E, R>(name: string, fn: (event: E, context?: Context) => Promise<R>) {
  return async (event: E, context?: Context): Promise<R> => {
    // Keys from the previous invocation of a warm container must not leak into this one's lines.
    logger.resetKeys();
    if (context) logger.addContext(context);
    logger.appendKeys({ function: name });
    try {
      return await fn(event, context);
    } catch (error) {
      if (STAND_DOWN_ERRORS.has((error as Error).name)) logger.info('stage stood down', { reason: (error as Error).message });
      else logger.error('invocation failed', { error });
      throw error;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
