// The timeline entries a close owes: its own (`recovered`, `terminated`, `closed`) and the access
// change that follows it. They are the outbox of `Case Recovered`/`Case Terminated`/`Case Closed`
// and `Access Changed`, so a close whose call died between the close and these writes would lose
// its events for good: the next call that finds the case closed that way writes what is missing.
import type { DunningCase, TimelineEntry } from '../domain/case.ts';
import type { Timeline } from '../domain/ports.ts';
import type { Policy } from '../policy/schema.ts';
import { END_ACCESS_EVENT_KEY, recordAccessAtEnd } from './access-changes.ts';
import type { Uses } from './deps.ts';
import { record, writeOnce, type RecordFields } from './timeline.ts';

export type ClosingEntryType = Extract<TimelineEntry['type'], 'recovered' | 'terminated' | 'closed'>;

/**
 * Writes the close's entries (`writeOnce`). `closedNow` says this call closed the case: it writes
 * them at `now`; a later call (a retried stage, a redelivered event) writes the missing ones at the
 * close's own instant. True when this call wrote the close's own entry (count it then).
 */
export async function recordClose(
  deps: Uses<never, Timeline>,
  policy: Pick<Policy, 'access'> | undefined,
  closed: DunningCase,
  closedNow: boolean,
  now: string,
  entry: { type: ClosingEntryType } & Omit<RecordFields, 'at' | 'eventKey'>,
): Promise<boolean> {
  const at = closedNow ? now : (closed.closedAt ?? now);
  const { type, ...fields } = entry;
  const wrote = await writeOnce(deps, closed, type, closedNow, () => record(deps, closed.invoiceId, type, { ...fields, at, eventKey: type }));
  await writeOnce(deps, closed, END_ACCESS_EVENT_KEY, closedNow, () => recordAccessAtEnd(deps, policy, closed, at));
  return wrote;
}
