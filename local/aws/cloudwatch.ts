// CloudWatch, as far as the local runtime needs it: the metrics the functions publish (their EMF
// lines, read from each function's output as CloudWatch Logs would), the ones AWS publishes for them
// (Lambda invocations and errors, Step Functions executions, dead-letter queues), and the stack's
// own alarms evaluated against them. A test or the demo can then ask what AWS would: did any alarm's
// metric move?
import type { AlarmSpec } from './deployment.ts';

export interface Datum {
  namespace: string;
  name: string;
  dimensions: Readonly<Record<string, string>>;
  value: number;
  unit?: string;
  /** Which function emitted it (EMF), when a function did. */
  source?: string;
  at: number;
}

export interface AlarmState {
  id: string;
  /** `Namespace/MetricName {dimensions}`, for a readable failure. */
  metric: string;
  /** The statistic over everything recorded: the sum (Sum) or the largest datapoint (Maximum). */
  value: number;
  threshold: number;
  state: 'OK' | 'ALARM';
}

export class LocalMetrics {
  private readonly recorded: Datum[] = [];
  private readonly listeners = new Set<(datum: Datum) => void>();

  put(datum: Omit<Datum, 'at'> & { at?: number }): void {
    const full = { ...datum, at: datum.at ?? Date.now() };
    this.recorded.push(full);
    for (const listener of this.listeners) listener(full);
  }

  /** Every datapoint so far, oldest first. */
  get data(): readonly Datum[] {
    return this.recorded;
  }

  /** Calls `listener` with each new datapoint; returns the unsubscribe. */
  subscribe(listener: (datum: Datum) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Reads one line of a function's output: an embedded metric format (EMF) document becomes its
   * datapoints, as CloudWatch extracts them from the log group; any other line is not a metric.
   * Returns whether the line was one.
   */
  ingestLogLine(line: string, source: string): boolean {
    if (!line.startsWith('{') || !line.includes('"_aws"')) return false;
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return false;
    }
    const meta = document._aws as { Timestamp?: number; CloudWatchMetrics?: EmfDirective[] } | undefined;
    if (!meta?.CloudWatchMetrics) return false;
    for (const directive of meta.CloudWatchMetrics) {
      for (const dimensionSet of directive.Dimensions ?? [[]]) {
        const dimensions: Record<string, string> = {};
        for (const key of dimensionSet) dimensions[key] = String(document[key]);
        for (const metric of directive.Metrics ?? []) {
          const raw = document[metric.Name];
          for (const value of Array.isArray(raw) ? raw : [raw]) {
            if (typeof value !== 'number') continue;
            this.put({ namespace: directive.Namespace, name: metric.Name, dimensions, value, unit: metric.Unit, source, at: meta.Timestamp });
          }
        }
      }
    }
    return true;
  }

  /** The stack's alarms against what was recorded: each alarm's metric, and whether it would fire. */
  evaluate(alarms: readonly AlarmSpec[]): AlarmState[] {
    return alarms.map((alarm) => {
      const points = this.recorded.filter(
        (d) => d.namespace === alarm.namespace && d.name === alarm.metricName && sameDimensions(d.dimensions, alarm.dimensions),
      );
      const values = points.map((d) => d.value);
      const value = alarm.statistic === 'Maximum' ? Math.max(0, ...values) : values.reduce((sum, v) => sum + v, 0);
      return {
        id: alarm.id,
        metric: `${alarm.namespace}/${alarm.metricName} ${JSON.stringify(alarm.dimensions)}`,
        value,
        threshold: alarm.threshold,
        state: breaches(value, alarm) ? 'ALARM' : 'OK',
      };
    });
  }
}

interface EmfDirective {
  Namespace: string;
  Dimensions?: string[][];
  Metrics?: Array<{ Name: string; Unit?: string }>;
}

/** CloudWatch matches a metric by its exact set of dimensions. */
function sameDimensions(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function breaches(value: number, alarm: AlarmSpec): boolean {
  switch (alarm.comparisonOperator) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= alarm.threshold;
    case 'GreaterThanThreshold':
      return value > alarm.threshold;
    case 'LessThanThreshold':
      return value < alarm.threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= alarm.threshold;
    default:
      throw new Error(`alarm ${alarm.id}: comparison ${alarm.comparisonOperator} is not evaluated locally`);
  }
}
