// The outbox's relay: the events of timeline entries that record a state change go to the merchant's
// event bus. An entry is written pending (shared/adapters/dynamodb/timeline.ts); this publishes its
// event and only then marks it published, so a failure at any point leaves it pending, to be
// published again by the next call: at least once, never before the state it reports.
import type { Cases, Outbox, OutboxEntry } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { eventOf } from '../events/from-timeline.ts';
import type { Uses } from './deps.ts';

/** PutEvents takes at most 10 entries a call. */
const BATCH = 10;

export interface EntryRef {
  invoiceId: string;
  entryKey: string;
}

export interface PublishResult {
  published: number;
  /** Entries still pending: the bus refused their event. The caller reports them for a retry. */
  failed: EntryRef[];
}

export type PublishDeps = Uses<'bus' | 'log' | 'metrics', Outbox & Pick<Cases, 'getCase'>>;

/**
 * Publishes the events of these entries, in the order given (each case's entries oldest first). An
 * entry already published, or gone, is skipped: a stream redelivery and the sweep may both name it.
 */
export async function publishEntries(deps: PublishDeps, refs: readonly EntryRef[]): Promise<PublishResult> {
  const cases = new Map<string, DunningCase | undefined>();
  const caseOf = async (invoiceId: string) => {
    if (!cases.has(invoiceId)) cases.set(invoiceId, await deps.store.getCase(invoiceId));
    return cases.get(invoiceId);
  };
  const ready: Array<{ ref: EntryRef; event: NonNullable<ReturnType<typeof eventOf>> }> = [];
  for (const ref of refs) {
    const pending = await deps.store.pendingEntry(ref.invoiceId, ref.entryKey);
    if (!pending) continue;
    const dunningCase = await caseOf(ref.invoiceId);
    const event = dunningCase && eventOf(pending.entry, pending.entryKey, dunningCase);
    if (!event) {
      // Nothing to publish (no case: an entry written ahead of a case that never was): not owed.
      deps.log.warn('outbox entry publishes no event; taken out of the outbox', { invoiceId: ref.invoiceId, entryKey: ref.entryKey, type: pending.entry.type });
      await deps.store.markPublished(ref.invoiceId, ref.entryKey);
      continue;
    }
    ready.push({ ref, event });
  }

  let published = 0;
  const failed: EntryRef[] = [];
  for (let start = 0; start < ready.length; start += BATCH) {
    const batch = ready.slice(start, start + BATCH);
    let taken: boolean[];
    try {
      taken = await deps.bus.publish(batch.map(({ event }) => ({ detailType: event.detailType, detail: { ...event.detail }, time: event.detail.occurredAt })));
    } catch (error) {
      deps.log.warn('event bus unavailable; the events stay in the outbox', { error: (error as Error).message, events: batch.length });
      taken = batch.map(() => false);
    }
    for (const [index, { ref, event }] of batch.entries()) {
      if (taken[index]) {
        await deps.store.markPublished(ref.invoiceId, ref.entryKey);
        deps.metrics.count('EventPublished', { DetailType: event.detailType });
        published += 1;
      } else {
        deps.metrics.count('EventPublishFailed');
        failed.push(ref);
      }
    }
  }
  return { published, failed };
}

/** How long an entry may wait for the fast path before the sweep publishes it. */
export const SWEEP_AFTER_MS = 60_000;

/**
 * The sweep: publishes every entry still pending after `SWEEP_AFTER_MS` (the fast path failed,
 * or gave up), oldest first, up to `limit` a call.
 */
export async function sweepOutbox(deps: PublishDeps & Uses<'clock'>, options: { olderThanMs?: number; limit?: number } = {}): Promise<PublishResult & { found: number }> {
  const before = new Date(deps.clock.now().getTime() - (options.olderThanMs ?? SWEEP_AFTER_MS)).toISOString();
  const pending: OutboxEntry[] = await deps.store.pendingEntries(before, options.limit ?? 100);
  const result = await publishEntries(deps, pending.map(({ invoiceId, entryKey }) => ({ invoiceId, entryKey })));
  if (pending.length) deps.log.info('outbox swept', { found: pending.length, published: result.published, failed: result.failed.length });
  return { ...result, found: pending.length };
}
