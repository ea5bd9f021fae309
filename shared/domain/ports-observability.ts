// What the product reports through: structured logs and business metrics.
import type { MetricArgs, MetricName } from './metrics.ts';

/** A structured logger; Powertools Logger satisfies it. Extra objects become JSON keys. */
export interface Log {
  debug(message: string, ...extra: LogFields[]): void;
  info(message: string, ...extra: LogFields[]): void;
  warn(message: string, ...extra: LogFields[]): void;
  error(message: string, ...extra: LogFields[]): void;
}

/**
 * Keys for one log line. The ids go by these names everywhere: invoiceId, customerId, eventId (the
 * Stripe event), executionName, stage; then reason, outcome… Never an address (the logger masks any).
 */
export type LogFields = Record<string, string | number | boolean | undefined | null | object>;

/** Business metrics. In Lambda they go to CloudWatch through Powertools Metrics (EMF). */
export interface MetricsSink {
  /** Adds `value` (1 by default) to metric `name`, under its dimension when it has one. */
  count<N extends MetricName>(name: N, ...args: MetricArgs<N>): void;
}
