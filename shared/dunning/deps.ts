// What the dunning use cases need from the outside world, injected so Lambda and the local
// runtime run the same code against different endpoints.
import type { CaseStore, Clock, Mailer, PaymentGateway, PaymentLinks, Workflow } from '../domain/ports.ts';
import type { Policy } from '../policy/schema.ts';

/** A structured logger; Powertools Logger satisfies it. Extra objects become JSON keys. */
export interface Log {
  debug(message: string, ...extra: LogFields[]): void;
  info(message: string, ...extra: LogFields[]): void;
  warn(message: string, ...extra: LogFields[]): void;
  error(message: string, ...extra: LogFields[]): void;
}

/** Keys for one log line: invoiceId, stripeEventId, executionName, stage, reason… never an address. */
export type LogFields = Record<string, string | number | boolean | undefined | null | object>;

/** Business metrics. In Lambda they go to CloudWatch through Powertools Metrics (EMF). */
export interface MetricsSink {
  count(name: MetricName, value?: number): void;
}

export type MetricName =
  | 'CaseOpened'
  | 'NoticeSent'
  | 'NoticeUndeliverable'
  | 'PaymentRetried'
  | 'PaymentRecovered'
  | 'PaymentDeclined'
  | 'CaseTerminated'
  | 'CaseNeedsAttention'
  | 'CaseClosedOutside'
  | 'EventIgnored'
  | 'EventUnusable'
  | 'EmailDelivered'
  | 'EmailBounced'
  | 'EmailComplained'
  | 'EmailRejected'
  | 'EmailSuppressed'
  | 'EmailEventUnusable'
  | 'PreDunningSent'
  | 'PreDunningCancelled';

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
export const noMetrics: MetricsSink = { count() {} };
