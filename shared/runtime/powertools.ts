// Powertools instances shared by every function, created once per Lambda container.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import type { MetricsSink } from '../dunning/deps.ts';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'dunning' });
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Dunning' });
/** Off outside Lambda; in Lambda it traces the AWS SDK clients and Stripe's HTTPS calls. */
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'dunning' });

export const powertoolsMetrics: MetricsSink = {
  count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value),
};

/**
 * Wraps a handler with the Powertools chores: request context on every log line, metrics flushed
 * after each invocation, and one error line before the error goes back to Step Functions or the URL.
 */
export function instrument<E, R>(name: string, fn: (event: E, context?: Context) => Promise<R>) {
  return async (event: E, context?: Context): Promise<R> => {
    // Keys from the previous invocation of a warm container must not leak into this one's lines.
    logger.resetKeys();
    if (context) logger.addContext(context);
    logger.appendKeys({ function: name });
    try {
      return await fn(event, context);
    } catch (error) {
      // A closed case is how a stage learns it must stand down: expected, not a failure.
      if ((error as Error).name === 'CaseClosedError') logger.info('stage stood down', { reason: (error as Error).message });
      else logger.error('invocation failed', { error });
      throw error;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
