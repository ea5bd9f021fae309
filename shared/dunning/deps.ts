// What the dunning use cases need from the outside world, injected so Lambda and the local
// runtime run the same code against different endpoints.
import type { CaseStore, Clock, Mailer, PaymentGateway, PaymentLinks, Workflow } from '../domain/ports.ts';
import type { Policy } from '../policy/schema.ts';
import { noMetrics, type MetricsSink } from './metrics.ts';

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

export type { MetricName, MetricsSink } from './metrics.ts';

export interface DunningDeps {
  policy: Policy;
  store: CaseStore;
  stripe: PaymentGateway;
  mailer: Mailer;
  /** Makes the signed one-click "update payment details" links the notices carry. */
  links: PaymentLinks;
  clock: Clock;
  log: Log;
  metrics: MetricsSink;
}

export interface IngestDeps extends DunningDeps {
  workflow: Workflow;
  /** Whether the deployment's Stripe key is live; events of the other mode are ignored. */
  livemode: boolean;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
export { noMetrics };
