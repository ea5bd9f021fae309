// Each change of a customer's access is written on the case (so the access API answers it) and then
// on its timeline (so an `Access Changed` event follows, never ahead of the state it reports).
import type { CaseAccess, DunningCase } from '../domain/case.ts';
import type { AccessRecords, Timeline } from '../domain/ports.ts';
import type { AccessLevel } from '../events/catalog.ts';
import type { Policy } from '../policy/schema.ts';
import { accessChangeOn, accessOfCase, openAccess } from './access.ts';
import type { Uses } from './deps.ts';
import { businessClock, scheduleAnchor } from './retry-plan.ts';
import { record, writeOnce } from './timeline.ts';

/** The access a new case starts with: the policy's `onFailure`, from now. */
export function accessAtFailure(policy: Policy, now: string): CaseAccess {
  return { level: policy.access.onFailure, since: now, reason: 'payment failed', day: 0 };
}

/** The event key of the access change a case's end makes: a case ends once. */
export const END_ACCESS_EVENT_KEY = 'access/end';

/** The event key of the access change of policy day `day` (0: the failure). */
const dayEventKey = (day: number) => `access/day-${day}`;

/** The event key of the access a case opens with. */
export const OPEN_ACCESS_EVENT_KEY = dayEventKey(0);

/** Records the change to a case's opening access, if it is a change (`full` is none). */
export async function recordAccessAtOpen(deps: Uses<'clock' | 'caseClock', Timeline>, policy: Policy, opened: DunningCase): Promise<boolean> {
  const access = openAccess(policy, opened);
  if (access.level === 'full') return true;
  const until = accessOfCase(policy, opened, deps.clock.now(), businessClock(deps, opened), scheduleAnchor(deps, opened)).until;
  return recordChange(deps, opened.invoiceId, 'full', access.level, access.reason, until, access.since, OPEN_ACCESS_EVENT_KEY);
}

/**
 * A notice stage on `day` applies the policy's change of that day, once: the case's access moves
 * only forward. A retried stage finds it applied; if the attempt that applied it died before its
 * timeline entry (the outbox), the retry writes the entry, so the `Access Changed` event is not lost.
 */
export async function applyAccessChangeOfDay(
  deps: Uses<'clock' | 'caseClock', AccessRecords & Timeline>,
  policy: Policy,
  dunningCase: DunningCase,
  day: number,
  stage?: string,
): Promise<void> {
  const change = accessChangeOn(policy, day);
  if (!change) return;
  const before = openAccess(policy, dunningCase);
  if (before.day > change.day) return;
  if (before.day === change.day) {
    await recordLostChange(deps, policy, dunningCase, before, stage);
    return;
  }
  const now = deps.clock.now().toISOString();
  const access: CaseAccess = { level: change.level, since: now, reason: `day ${day} of dunning`, day };
  if (!(await deps.store.setAccess(dunningCase.invoiceId, access, now))) return;
  if (access.level === before.level) return;
  const after = { ...dunningCase, access };
  const until = accessOfCase(policy, after, deps.clock.now(), businessClock(deps, after), scheduleAnchor(deps, after)).until;
  const key = dayEventKey(day);
  await writeOnce(deps, dunningCase, key, true, () => recordChange(deps, dunningCase.invoiceId, before.level, access.level, access.reason, until, now, key, stage));
}

/** The level a case had before the policy's change of `day`: the change before it, or `onFailure`. */
function levelBefore(policy: Policy, day: number): AccessLevel {
  const earlier = policy.access.changes.filter((c) => c.fromDay < day);
  return earlier.at(-1)?.access ?? policy.access.onFailure;
}

async function recordLostChange(
  deps: Uses<'clock' | 'caseClock', Timeline>,
  policy: Policy,
  dunningCase: DunningCase,
  applied: CaseAccess & { day: number },
  stage: string | undefined,
): Promise<void> {
  const from = levelBefore(policy, applied.day);
  if (from === applied.level) return;
  const key = dayEventKey(applied.day);
  await writeOnce(deps, dunningCase, key, false, () => {
    const until = accessOfCase(policy, dunningCase, deps.clock.now(), businessClock(deps, dunningCase), scheduleAnchor(deps, dunningCase)).until;
    return recordChange(deps, dunningCase.invoiceId, from, applied.level, applied.reason, until, applied.since, key, stage);
  });
}

/** A case that just ended: its customer's access follows its status from now on. */
export async function recordAccessAtEnd(
  deps: Uses<never, Timeline>,
  policy: Pick<Policy, 'access'> | undefined,
  ended: DunningCase,
  at: string,
): Promise<boolean> {
  const before: AccessLevel = ended.access?.level ?? policy?.access.onFailure ?? 'grace';
  const [after, reason]: [AccessLevel, string] =
    ended.status === 'terminated'
      ? [policy?.access.afterEnd ?? 'none', 'the subscription ended unpaid']
      : ended.status === 'recovered'
        ? ['full', 'paid']
        : ['full', `dunning ended: ${ended.closedReason ?? 'closed'}`];
  if (after === before) return true;
  return recordChange(deps, ended.invoiceId, before, after, reason, null, at, END_ACCESS_EVENT_KEY);
}

async function recordChange(
  deps: Uses<never, Timeline>,
  invoiceId: string,
  from: AccessLevel,
  to: AccessLevel,
  reason: string,
  until: string | null,
  at: string,
  eventKey: string,
  stage?: string,
): Promise<boolean> {
  return record(deps, invoiceId, 'access_changed', { at, eventKey, ...(stage ? { stage } : {}), detail: `${from} → ${to}: ${reason}`, facts: { access: to, previousAccess: from, reason, until } });
}
