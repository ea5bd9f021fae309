// One line on a case's timeline, written the same way by every use case: what happened (`type`),
// when, and optionally at which stage and with what detail.
import type { TimelineEntry, TimelineEntryType } from '../domain/case.ts';
import type { Clock, Timeline } from '../domain/ports.ts';
import type { Uses } from './deps.ts';

/** The fields of an entry besides its type; `at` is the clock's now unless the step has its own instant. */
export type RecordFields = Partial<Omit<TimelineEntry, 'type'>>;

/** Appends a `type` entry to the timeline of case `invoiceId`, at the clock's now unless `fields.at` says when. */
export function record(deps: Uses<'clock', Timeline>, invoiceId: string, type: TimelineEntryType, fields?: RecordFields): Promise<void>;
/** A step that has its own instant needs no clock. */
export function record(deps: Uses<never, Timeline>, invoiceId: string, type: TimelineEntryType, fields: RecordFields & { at: string }): Promise<void>;
export function record(deps: { store: Timeline; clock?: Clock }, invoiceId: string, type: TimelineEntryType, fields: RecordFields = {}): Promise<void> {
  const { at = deps.clock!.now().toISOString(), ...rest } = fields;
  return deps.store.appendTimeline(invoiceId, { at, type, ...rest });
}
