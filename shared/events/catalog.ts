// The events the product publishes for the merchant's own systems (their CRM, support desk, Slack,
// data warehouse): one per state change of a case, on an EventBridge bus, source `stripe-dunning`.
// The detail-types and their fields are a contract: docs/events/ holds a JSON Schema for each, and
// every event the tests produce is validated against it. Pure: no AWS imports.
import type { RecoveredBy } from '../domain/case.ts';
import type { DeclineClass } from '../domain/retry-records.ts';
import type { EndAction } from '../policy/schema.ts';

/** The EventBridge `source` of every event. */
export const EVENT_SOURCE = 'stripe-dunning';

/** Every detail-type, in the order a case meets them. */
export const DETAIL_TYPES = [
  'Case Opened',
  'Notice Sent',
  'Retry Attempted',
  'Access Changed',
  'Case Recovered',
  'Case Terminated',
  'Case Closed',
  'Case Needs Attention',
] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

/** The JSON Schema file of a detail-type in docs/events/: `Case Opened` → `case-opened.schema.json`. */
export function schemaFileOf(detailType: DetailType): string {
  return `${detailType.toLowerCase().replaceAll(' ', '-')}.schema.json`;
}

/** What a customer in dunning may use: `grace` is full use while a failure is being recovered. */
export const ACCESS_LEVELS = ['full', 'grace', 'limited', 'none'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/**
 * The fields every event's detail carries. Never an email address, a name or a card detail: the
 * customer is their Stripe id.
 */
export interface EventBase {
  /** Stable across redeliveries and republishing: consumers dedupe on it. */
  eventId: string;
  /** When the state change happened (ISO 8601, UTC). */
  occurredAt: string;
  invoiceId: string;
  customerId: string;
  subscriptionId: string;
  /** What the case is owed, in the currency's minor units (cents, pence, yen). */
  amount: number;
  /** ISO 4217, lower case as Stripe writes it. */
  currency: string;
  /** The policy stage the change happened at (`Notice1`, `Retry2`, `Terminate`…), or null. */
  stage: string | null;
  /** The named policy the case runs. */
  policy: string;
  livemode: boolean;
}

export interface CaseOpenedDetail extends EventBase {
  /** When the renewal failed (Stripe's clock). */
  failedAt: string;
  /** When the subscription ends if nothing is paid. */
  terminatesAt: string;
}

export interface NoticeSentDetail extends EventBase {
  stage: string;
  /** The SES message id, for matching delivery events. */
  messageId: string | null;
}

export interface RetryAttemptedDetail extends EventBase {
  stage: string;
  outcome: 'paid' | 'declined';
  /** What the decline says about retrying (shared/retries/classify.ts); null when paid. */
  declineClass: DeclineClass | null;
  /** Stripe's decline code (or error code); null when paid. */
  reason: string | null;
}

export interface AccessChangedDetail extends EventBase {
  access: AccessLevel;
  previousAccess: AccessLevel;
  /** Why, in words (`payment failed`, `day 7 of dunning`, `paid`, `subscription ended`). */
  reason: string;
  /** When access changes next if nothing happens, or null. */
  until: string | null;
}

export interface CaseRecoveredDetail extends EventBase {
  recoveredBy: RecoveredBy;
}

export interface CaseTerminatedDetail extends EventBase {
  /** The policy's end action that ran (the policy's `end.action`). */
  endAction: EndAction;
}

export interface CaseClosedDetail extends EventBase {
  /** Why the case closed from outside (`subscription canceled in Stripe`, `invoice voided`…). */
  reason: string;
}

export interface CaseNeedsAttentionDetail extends EventBase {
  /** The named error the stage failed with (never its message, which may quote Stripe). */
  errorName: string;
}

export interface DetailOf {
  'Case Opened': CaseOpenedDetail;
  'Notice Sent': NoticeSentDetail;
  'Retry Attempted': RetryAttemptedDetail;
  'Access Changed': AccessChangedDetail;
  'Case Recovered': CaseRecoveredDetail;
  'Case Terminated': CaseTerminatedDetail;
  'Case Closed': CaseClosedDetail;
  'Case Needs Attention': CaseNeedsAttentionDetail;
}

/** One event, as PutEvents takes it (less the bus) and as the local runtime serves it. */
export type DunningEvent = { [K in DetailType]: { source: typeof EVENT_SOURCE; detailType: K; detail: DetailOf[K] } }[DetailType];
