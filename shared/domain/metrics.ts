// The business metrics' names and dimensions, in one place: the code emits exactly these, and the
// CDK dashboard and alarms read this same constant, so a renamed metric or dimension breaks the
// build instead of a graph. Pure data, so the MetricsSink port (ports-observability.ts) can be typed by it.

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
  RetryScheduled: {
    unit: 'Count',
    dimension: 'Reason',
    description: 'A retry was planned (standard, payday, backoff, after) or skipped (hard, needs_customer, no_payment_method, cap, no_window)',
  },
  WastedAttempt: {
    unit: 'Count',
    description: 'A charge made against the retry rules (a stopped card, past a network cap, outside business hours): must stay 0',
  },
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
  EventPublished: { unit: 'Count', dimension: 'DetailType', description: 'An event for your systems reached the event bus (Case Opened, Notice Sent, …)' },
  EventPublishFailed: { unit: 'Count', description: 'The event bus refused an event: it stays in the outbox and is published again' },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof DUNNING_METRICS;

/** The dimension name of metric `N`, or `never` for a metric without one. */
export type DimensionOf<N extends MetricName> = (typeof DUNNING_METRICS)[N] extends { dimension: infer D extends string } ? D : never;

/** What follows the name in `MetricsSink.count`: the dimension (when the metric has one), then the value. */
export type MetricArgs<N extends MetricName> = [DimensionOf<N>] extends [never]
  ? [value?: number]
  : [dimensions: Readonly<Record<DimensionOf<N>, string>>, value?: number];
