// Records what SES says about each email sent (its configuration set's event destinations, through
// SNS): delivered, bounced, complained, rejected, and opened or clicked when tracking is on. The
// message tags we send (`stage`, `invoice`) lead back to the case. A hard bounce or a complaint
// suppresses the address and flags the case; the case stays open, with its banner and retries.
import * as z from '../zod.ts';
import type { SuppressionReason, TimelineEntryType } from '../domain/case.ts';
import type { Cases, EmailEventClaims, Suppressions, Timeline } from '../domain/ports.ts';
import type { MetricName, Uses } from './deps.ts';
import { addressKey, flagCaseSuppressed } from './suppression.ts';
import { record } from './timeline.ts';

/** What the SES event recorder touches: the case it leads back to, the suppressions, the event claims and the timeline. */
export type EmailEventDeps = Uses<'clock' | 'log' | 'metrics', Cases & Suppressions & EmailEventClaims & Timeline>;

const TagsSchema = z.optional(z.record(z.string(), z.array(z.string())));

/** The parts of an SES event record (Amazon SES → SNS, event publishing) the product reads. */
export const SesEventSchema = z.object({
  /** Set by event publishing (configuration sets); identity feedback notifications say notificationType. */
  eventType: z.optional(z.string()),
  notificationType: z.optional(z.string()),
  mail: z.object({
    messageId: z.string().check(z.minLength(1)),
    timestamp: z.optional(z.string()),
    destination: z.optional(z.array(z.string())),
    tags: TagsSchema,
  }),
  bounce: z.optional(
    z.object({
      bounceType: z.string(),
      bounceSubType: z.optional(z.string()),
      bouncedRecipients: z.array(z.object({ emailAddress: z.string(), status: z.optional(z.string()) })),
      timestamp: z.optional(z.string()),
      feedbackId: z.optional(z.string()),
    }),
  ),
  complaint: z.optional(
    z.object({
      complainedRecipients: z.array(z.object({ emailAddress: z.string() })),
      complaintFeedbackType: z.optional(z.string()),
      timestamp: z.optional(z.string()),
      feedbackId: z.optional(z.string()),
    }),
  ),
  delivery: z.optional(z.object({ timestamp: z.optional(z.string()), smtpResponse: z.optional(z.string()) })),
  reject: z.optional(z.object({ reason: z.optional(z.string()) })),
  open: z.optional(z.object({ timestamp: z.optional(z.string()) })),
  click: z.optional(z.object({ timestamp: z.optional(z.string()), link: z.optional(z.string()) })),
});
export type SesEvent = z.infer<typeof SesEventSchema>;

/** The event types the configuration set publishes (Open and Click only when tracking is on). */
const RECORDED: Record<string, { timeline: TimelineEntryType; metric?: MetricName; body: keyof SesEvent }> = {
  Delivery: { timeline: 'email_delivered', metric: 'EmailDelivered', body: 'delivery' },
  Bounce: { timeline: 'email_bounced', metric: 'EmailBounced', body: 'bounce' },
  Complaint: { timeline: 'email_complained', metric: 'EmailComplained', body: 'complaint' },
  Reject: { timeline: 'email_rejected', metric: 'EmailRejected', body: 'reject' },
  Open: { timeline: 'email_opened', body: 'open' },
  Click: { timeline: 'email_clicked', body: 'click' },
};

export type EmailEventResult =
  | { action: 'recorded'; eventType: string; invoiceId?: string; suppressed: number }
  | { action: 'duplicate'; eventType: string }
  | { action: 'ignored'; reason: string }
  | { action: 'unusable'; reason: string };

/** One SNS message body (the SES event record as a JSON string). */
export async function recordSnsMessage(deps: EmailEventDeps, message: unknown): Promise<EmailEventResult> {
  if (typeof message !== 'string') return unusable(deps, 'the SNS record has no Message');
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return unusable(deps, 'the SNS Message is not JSON');
  }
  return recordEmailEvent(deps, parsed);
}

/**
 * Records one SES event. Never throws for a bad message (it is logged and counted, since retrying
 * cannot fix it); throws only when the store fails, so the delivery is retried.
 */
export async function recordEmailEvent(deps: EmailEventDeps, raw: unknown): Promise<EmailEventResult> {
  const parsed = SesEventSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return unusable(deps, `not an SES event record (${first?.path.join('.') || 'record'}: ${first?.message})`);
  }
  const event = parsed.data;
  const eventType = event.eventType ?? event.notificationType ?? '';
  const kind = RECORDED[eventType];
  if (!kind) {
    deps.log.info('SES event type not recorded', { eventType, messageId: event.mail.messageId });
    return { action: 'ignored', reason: `event type ${eventType || '(none)'} is not recorded` };
  }
  if (event[kind.body] === undefined) return unusable(deps, `a ${eventType} record without its "${kind.body}" object`);

  // SNS delivers at least once: each event is applied once. A failure gives the claim back.
  const key = eventKey(event, eventType);
  if (!(await deps.store.claimEmailEvent(key, deps.clock.now()))) return { action: 'duplicate', eventType };
  try {
    return await apply(deps, event, eventType, kind);
  } catch (error) {
    await deps.store.releaseEmailEvent(key).catch(() => undefined);
    throw error;
  }
}

async function apply(
  deps: EmailEventDeps,
  event: SesEvent,
  eventType: string,
  kind: (typeof RECORDED)[string],
): Promise<EmailEventResult> {
  const now = deps.clock.now().toISOString();
  const tag = (name: string) => event.mail.tags?.[name]?.[0];
  const invoiceId = tag('invoice');
  const stage = tag('stage');
  const dunningCase = invoiceId ? await deps.store.findCaseOfInvoice(invoiceId) : undefined;

  const suppress = suppressionOf(event);
  for (const address of suppress?.addresses ?? []) {
    await deps.store.suppressEmail(addressKey(address), {
      reason: suppress!.reason,
      at: now,
      detail: suppress!.detail,
      invoiceId: dunningCase?.invoiceId,
    });
    deps.metrics.count('EmailSuppressed');
  }

  if (dunningCase) {
    await record(deps, dunningCase.invoiceId, kind.timeline, { at: now, stage, detail: detailOf(event) });
    if (suppress && suppress.addresses.length > 0) await flagCaseSuppressed(deps, dunningCase, suppress.reason, suppress.detail);
  }
  if (kind.metric) deps.metrics.count(kind.metric);
  deps.log.info('SES event recorded', {
    eventType,
    messageId: event.mail.messageId,
    invoiceId: dunningCase?.invoiceId ?? invoiceId,
    stage,
    suppressed: suppress?.addresses.length ?? 0,
    ...(invoiceId && !dunningCase ? { reason: 'no case for the invoice tag' } : {}),
  });
  return { action: 'recorded', eventType, invoiceId: dunningCase?.invoiceId, suppressed: suppress?.addresses.length ?? 0 };
}

/**
 * Which addresses this event takes off the list, and why: a Permanent bounce (SES's own
 * "OnAccountSuppressionList" included) or any complaint. Transient and Undetermined bounces do not.
 */
function suppressionOf(event: SesEvent): { reason: SuppressionReason; detail: string; addresses: string[] } | undefined {
  if (event.bounce?.bounceType === 'Permanent') {
    return {
      reason: 'bounce',
      detail: `${event.bounce.bounceType}/${event.bounce.bounceSubType ?? 'General'}`,
      addresses: event.bounce.bouncedRecipients.map((r) => r.emailAddress),
    };
  }
  if (event.complaint) {
    return {
      reason: 'complaint',
      detail: event.complaint.complaintFeedbackType ?? 'complaint',
      addresses: event.complaint.complainedRecipients.map((r) => r.emailAddress),
    };
  }
  return undefined;
}

/** A short line for the timeline; never an address. */
function detailOf(event: SesEvent): string {
  if (event.bounce) {
    const status = event.bounce.bouncedRecipients[0]?.status;
    return `${event.bounce.bounceType}/${event.bounce.bounceSubType ?? 'General'}${status ? ` ${status}` : ''}`;
  }
  if (event.complaint) return event.complaint.complaintFeedbackType ?? 'complaint';
  // The SMTP reply's code only: its free text may echo the recipient's address.
  if (event.delivery) {
    const code = /^\d{3}(?: \d\.\d{1,3}\.\d{1,3})?/.exec(event.delivery.smtpResponse ?? '')?.[0];
    return code ? `delivered (${code})` : 'delivered';
  }
  if (event.reject) return event.reject.reason ?? 'rejected';
  if (event.click) return linkWithoutQuery(event.click.link);
  return 'opened';
}

/** A clicked link may carry a token in its query; the timeline keeps the page only. */
function linkWithoutQuery(link: string | undefined): string {
  if (!link) return 'clicked';
  try {
    const url = new URL(link);
    return `${url.origin}${url.pathname}`.slice(0, 200);
  } catch {
    return 'clicked';
  }
}

function eventKey(event: SesEvent, eventType: string): string {
  const body = event.bounce ?? event.complaint ?? event.delivery ?? event.reject ?? event.open ?? event.click;
  const { feedbackId, timestamp } = (body ?? {}) as { feedbackId?: string; timestamp?: string };
  const discriminator = feedbackId ?? timestamp ?? '';
  return `${event.mail.messageId}#${eventType}#${discriminator}`;
}

function unusable(deps: EmailEventDeps, reason: string): EmailEventResult {
  deps.log.error('SES event unusable; not retried', { reason });
  deps.metrics.count('EmailEventUnusable');
  return { action: 'unusable', reason };
}
