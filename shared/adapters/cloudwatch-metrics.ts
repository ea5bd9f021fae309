// Business metrics published with PutMetricData, for code that runs outside Lambda (the operator
// CLI): there is no Lambda log stream for EMF to ride on, yet a case that `retry-now` recovers must
// count in the dashboard's funnel and recovered revenue like any other. Same namespace, names,
// units and dimensions (service=dunning plus the metric's own) as the functions' EMF.
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum as CloudWatchDatum } from '@aws-sdk/client-cloudwatch';
import { DUNNING_METRICS, METRICS_NAMESPACE, METRICS_SERVICE, metricDatum, type MetricsSink } from '../dunning/metrics.ts';

/** PutMetricData takes at most 1,000 data points per call. */
const MAX_PER_CALL = 1000;

export interface BufferedMetricsSink extends MetricsSink {
  /** Publishes what was counted since the last flush; resolves once CloudWatch took it. */
  flush(): Promise<void>;
}

export function createCloudWatchClient(options: { endpoint?: string } = {}): CloudWatchClient {
  return new CloudWatchClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 },
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
}

/**
 * Counts in memory, summed per metric and dimension value, and sends them in one call at flush:
 * an operator command counts a handful of metrics, and sending at the end keeps a metric's failure
 * from interrupting the action itself.
 */
export class CloudWatchMetricsSink implements BufferedMetricsSink {
  private readonly pending = new Map<string, CloudWatchDatum>();

  constructor(
    private readonly client: Pick<CloudWatchClient, 'send'>,
    private readonly namespace: string = METRICS_NAMESPACE,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  count: MetricsSink['count'] = (name, ...args) => {
    const datum = metricDatum(name, args);
    const dimensions = [{ Name: 'service', Value: METRICS_SERVICE }, ...Object.entries(datum.dimensions).map(([Name, Value]) => ({ Name, Value }))];
    const key = JSON.stringify([name, dimensions]);
    const existing = this.pending.get(key);
    if (existing) {
      existing.Value = (existing.Value ?? 0) + datum.value;
      return;
    }
    this.pending.set(key, {
      MetricName: name,
      Dimensions: dimensions,
      Value: datum.value,
      Unit: DUNNING_METRICS[name].unit === 'Count' ? 'Count' : 'None',
      Timestamp: this.clock(),
    });
  };

  async flush(): Promise<void> {
    const data = [...this.pending.values()];
    this.pending.clear();
    for (let i = 0; i < data.length; i += MAX_PER_CALL) {
      await this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: data.slice(i, i + MAX_PER_CALL) }));
    }
  }
}
