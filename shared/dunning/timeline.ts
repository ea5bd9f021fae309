// One line on a case's timeline, written the same way by every use case: what happened (`type`),
// when, and optionally at which stage and with what detail.
import type { DunningCase, TimelineEntry, TimelineEntryType } from '../domain/case.ts';
import type { PayOutcome } from '../domain/ports.ts';
import { classifyFailure } from '../retries/classify.ts';
import type { Clock, Timeline } from '../domain/ports.ts';
import type { Uses } from './deps.ts';

/** The fields of an entry besides its type; `at` is the clock's now unless the step has its own instant. */
export type RecordFields = Partial<Omit<TimelineEntry, 'type'>>;

/** Appends a `type` entry to the timeline of case `invoiceId`, at the clock's now unless `fields.at` says when. */
export function record(deps: Uses<'clock', Timeline>, invoiceId: string, type: TimelineEntryType, fields?: RecordFields): Promise<boolean>;
/** A step that has its own instant needs no clock. */
export function record(deps: Uses<never, Timeline>, invoiceId: string, type: TimelineEntryType, fields: RecordFields & { at: string }): Promise<boolean>;
export function record(deps: { store: Timeline; clock?: Clock }, invoiceId: string, type: TimelineEntryType, fields: RecordFields = {}): Promise<boolean> {
  const { at = deps.clock!.now().toISOString(), ...rest } = fields;
  return deps.store.appendTimeline(invoiceId, { at, type, ...rest });
}

/** What a declined charge's `retry_declined` entry tells its event: how the decline classifies. */
export function declineFacts(declined: Extract<PayOutcome, { outcome: 'declined' }>): RecordFields['facts'] {
  return { declineClass: classifyFailure(declined).class };
}

/**
 * Writes a case's once-only entry `eventKey` (its opening, a policy day's access change, its close,
 * a flag), then notes it on the case (`DunningCase.eventsRecorded`). `madeNow`: this call made the
 * change, so it writes the entry. A later call writes it only if the case does not list it, which
 * repairs a call that died between the change and its entry. A case opened before events existed
 * lists nothing and is never repaired. The entry's write is conditional on its key (`write` gives
 * false when the case already had it): a repair racing the call that made the change, which has
 * not noted it yet, writes nothing. True only for the call whose write took, so it alone counts it.
 * `write` gives true when there was nothing to write (an access change to the same level).
 */
export async function writeOnce(
  deps: Uses<never, Timeline>,
  dunningCase: Pick<DunningCase, 'invoiceId' | 'eventsRecorded'>,
  eventKey: string,
  madeNow: boolean,
  write: () => Promise<boolean>,
): Promise<boolean> {
  if (!madeNow && (dunningCase.eventsRecorded === undefined || dunningCase.eventsRecorded.includes(eventKey))) return false;
  if (!(await write())) return false;
  await deps.store.markRecorded(dunningCase.invoiceId, eventKey);
  return true;
}
