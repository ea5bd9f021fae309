// A case's timeline is the outbox of its events: the entries that record a state change the
// merchant's systems hear of each publish one event, built here from the entry and the case. Pure.
import type { DunningCase, RecoveredBy, TimelineEntry, TimelineEntryType } from '../domain/case.ts';
import type { DeclineClass } from '../domain/retry-records.ts';
import { EndActionSchema } from '../policy/schema.ts';
import { ACCESS_LEVELS, EVENT_SOURCE, type AccessLevel, type DetailType, type DunningEvent, type EventBase } from './catalog.ts';

/** The detail-type each timeline entry that reports a state change publishes; other entries publish nothing. */
export const EVENT_OF_ENTRY: Partial<Record<TimelineEntryType, DetailType>> = {
  case_opened: 'Case Opened',
  notice_sent: 'Notice Sent',
  retry_paid: 'Retry Attempted',
  retry_declined: 'Retry Attempted',
  access_changed: 'Access Changed',
  recovered: 'Case Recovered',
  terminated: 'Case Terminated',
  closed: 'Case Closed',
  flagged: 'Case Needs Attention',
};

/**
 * The emails that follow a case's end (the thank-you, the ending) are told by `Case Recovered` and
 * `Case Terminated`: `Notice Sent` is the notices of the sequence (and the action-required one).
 */
const CLOSING_EMAIL_STAGES = ['Recovered', 'Terminate'];

/** Whether an entry publishes an event (its item joins the outbox when written). */
export function publishesEvent(entry: Pick<TimelineEntry, 'type' | 'stage'>): boolean {
  if (entry.type === 'notice_sent' && CLOSING_EMAIL_STAGES.includes(entry.stage ?? '')) return false;
  return EVENT_OF_ENTRY[entry.type] !== undefined;
}

/**
 * The event's id: the timeline item's own key, so a republished entry keeps its id and consumers
 * dedupe on it. `entryKey` is the item's sort key (`TIMELINE#<at>#<seq>`). An entry a case has once
 * carries its own `eventKey` (`recovered`, `access/day-7`): its id is the same whoever wrote it.
 */
export function eventIdOf(invoiceId: string, entryKey: string, eventKey?: string): string {
  return `${invoiceId}/${eventKey ?? entryKey.replace(/^TIMELINE#/, '')}`;
}

const DECLINE_CLASSES: readonly DeclineClass[] = ['hard', 'retry_later', 'needs_customer', 'no_payment_method', 'processing_error'];
const RECOVERY_ROUTES: readonly RecoveredBy[] = ['workflow_retry', 'card_updated', 'stripe_retry', 'customer_payment', 'out_of_band', 'invoice_paid'];

/** The event an entry publishes, or undefined for an entry that publishes none. */
export function eventOf(entry: TimelineEntry, entryKey: string, dunningCase: DunningCase): DunningEvent | undefined {
  const detailType = EVENT_OF_ENTRY[entry.type];
  if (!detailType || !publishesEvent(entry)) return undefined;
  const facts = entry.facts ?? {};
  const text = (key: string): string | null => (typeof facts[key] === 'string' ? (facts[key] as string) : null);
  const base: EventBase = {
    eventId: eventIdOf(dunningCase.invoiceId, entryKey, entry.eventKey),
    occurredAt: new Date(entry.at).toISOString(),
    invoiceId: dunningCase.invoiceId,
    customerId: dunningCase.customerId,
    subscriptionId: dunningCase.subscriptionId,
    amount: dunningCase.amountDue.amount,
    currency: dunningCase.amountDue.currency,
    stage: entry.stage ?? null,
    policy: dunningCase.policy ?? 'default',
    livemode: dunningCase.livemode,
  };
  const source = EVENT_SOURCE;
  switch (detailType) {
    case 'Case Opened':
      return { source, detailType, detail: { ...base, failedAt: new Date(dunningCase.failedAt).toISOString(), terminatesAt: new Date(dunningCase.terminatesAt).toISOString() } };
    case 'Notice Sent':
      return { source, detailType, detail: { ...base, stage: entry.stage ?? 'unknown', messageId: entry.messageId ?? null } };
    case 'Retry Attempted': {
      const paid = entry.type === 'retry_paid';
      const declineClass = text('declineClass');
      return {
        source,
        detailType,
        detail: {
          ...base,
          stage: entry.stage ?? 'unknown',
          outcome: paid ? 'paid' : 'declined',
          declineClass: paid ? null : DECLINE_CLASSES.includes(declineClass as DeclineClass) ? (declineClass as DeclineClass) : null,
          reason: paid ? null : (entry.detail ?? null),
        },
      };
    }
    case 'Access Changed':
      return {
        source,
        detailType,
        detail: {
          ...base,
          access: level(text('access')),
          previousAccess: level(text('previousAccess')),
          reason: text('reason') ?? entry.detail ?? '',
          until: text('until'),
        },
      };
    case 'Case Recovered': {
      const by = text('recoveredBy') ?? dunningCase.recoveredBy ?? 'invoice_paid';
      return { source, detailType, detail: { ...base, recoveredBy: RECOVERY_ROUTES.includes(by as RecoveredBy) ? (by as RecoveredBy) : 'invoice_paid' } };
    }
    case 'Case Terminated': {
      const action = EndActionSchema.safeParse(text('endAction') ?? entry.detail);
      return { source, detailType, detail: { ...base, endAction: action.success ? action.data : 'leave_past_due' } };
    }
    case 'Case Closed':
      return { source, detailType, detail: { ...base, reason: entry.detail ?? dunningCase.closedReason ?? 'closed' } };
    case 'Case Needs Attention':
      return { source, detailType, detail: { ...base, errorName: text('errorName') ?? dunningCase.error?.name ?? 'Error' } };
  }
}

function level(value: string | null): AccessLevel {
  return ACCESS_LEVELS.includes(value as AccessLevel) ? (value as AccessLevel) : 'full';
}
