// A business metric as the functions publish it (shared/dunning/metrics.ts): summed, with
// service=dunning and its own dimension. The alarms and the dashboard read the same series.
import type { Duration } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_SERVICE, type DimensionOf, type MetricName } from '#shared/dunning/metrics.ts';

export function businessMetric<N extends MetricName>(
  namespace: string,
  name: N,
  dimensions: Record<DimensionOf<N>, string> | undefined,
  options: { period: Duration; label?: string },
): Metric {
  return new Metric({
    namespace,
    metricName: name,
    dimensionsMap: { service: METRICS_SERVICE, ...dimensions },
    statistic: 'Sum',
    period: options.period,
    label: options.label,
  });
}
