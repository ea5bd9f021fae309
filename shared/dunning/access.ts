// What a customer in dunning may use of the product right now, per subscription, from their cases
// and the policy's `access` block. Pure: the access API (customer-access.ts) reads the store and
// Stripe, and the stages record each change (access-changes.ts).
import type { CaseAccess, DunningCase } from '../domain/case.ts';
import type { CaseClock } from '../domain/case-clock.ts';
import type { AccessLevel } from '../events/catalog.ts';
import type { Policy } from '../policy/schema.ts';
import { momentOf } from '../retries/schedule.ts';

/** From the most generous to the least: the top-level answer is the most generous subscription's. */
const GENEROSITY: readonly AccessLevel[] = ['full', 'grace', 'limited', 'none'];

export interface SubscriptionAccess {
  subscription: string;
  access: AccessLevel;
  /** The case that decides it, while it is in dunning or ended unpaid; null otherwise. */
  invoice: string | null;
  stage: string | null;
  reason: string;
  /** Since when (ISO 8601); null for a subscription that never had a case. */
  since: string | null;
  /** When it changes next if nothing happens (ISO 8601), or null. */
  until: string | null;
}

/** What GET /customers/{id}/access answers. */
export interface AccessAnswer {
  access: AccessLevel;
  reason: string;
  since: string | null;
  until: string | null;
  subscriptions: Array<Pick<SubscriptionAccess, 'subscription' | 'access' | 'invoice' | 'stage'>>;
}

/** The level a case's customer has while it is open, and the day of the policy change it came from. */
export function openAccess(policy: Policy, dunningCase: Pick<DunningCase, 'access' | 'createdAt'>): CaseAccess & { day: number } {
  const recorded = dunningCase.access;
  if (recorded) return { ...recorded, day: recorded.day ?? 0 };
  return { level: policy.access.onFailure, since: dunningCase.createdAt, reason: 'payment failed', day: 0 };
}

/** The policy's change a notice stage on `day` makes, if any. */
export function accessChangeOn(policy: Policy, day: number): { level: AccessLevel; day: number } | undefined {
  const change = policy.access.changes.find((c) => c.fromDay === day);
  return change && { level: change.access, day: change.fromDay };
}

/**
 * One subscription's access, from its newest case. `clock` reads the case's business dates (the
 * wall clock in AWS); `scheduleStart` is day 0 of its schedule in that clock. Times are answered as
 * stored (the wall clock), so an app can cache until `until`.
 */
export function accessOfCase(
  policy: Policy,
  dunningCase: DunningCase,
  now: Date,
  clock: Pick<CaseClock, 'store'>,
  scheduleStart: Date,
): SubscriptionAccess {
  const base = { subscription: dunningCase.subscriptionId, invoice: dunningCase.invoiceId, stage: dunningCase.stage ?? null };
  switch (dunningCase.status) {
    case 'recovered':
      return { ...base, invoice: null, stage: null, access: 'full', reason: 'paid', since: dunningCase.closedAt ?? dunningCase.updatedAt, until: null };
    case 'closed':
      return {
        ...base,
        invoice: null,
        stage: null,
        access: 'full',
        reason: `dunning ended: ${dunningCase.closedReason ?? 'closed'}`,
        since: dunningCase.closedAt ?? dunningCase.updatedAt,
        until: null,
      };
    case 'terminated':
      return { ...base, access: policy.access.afterEnd, reason: 'the subscription ended unpaid', since: dunningCase.closedAt ?? dunningCase.updatedAt, until: null };
    case 'open':
    case 'needs_attention': {
      const current = openAccess(policy, dunningCase);
      const next = policy.access.changes.find((c) => c.fromDay > current.day && c.access !== current.level);
      const dueBusiness = next ? momentOf(scheduleStart, next.fromDay) : new Date(dunningCase.terminatesAt);
      const endsDifferently = next !== undefined || policy.access.afterEnd !== current.level;
      let until = endsDifferently ? clock.store(dueBusiness) : undefined;
      // A paused case's stages wait for the pause: so does the change they make.
      if (until && dunningCase.pausedUntil && Date.parse(dunningCase.pausedUntil) > until.getTime()) until = new Date(dunningCase.pausedUntil);
      if (until && until < now) until = now;
      return { ...base, access: current.level, reason: current.reason, since: current.since, until: until?.toISOString() ?? null };
    }
  }
}

/**
 * The customer's answer: each subscription's access (the newest case of each decides; a live
 * subscription without a case is `full`), and at the top the most generous of them, so a customer
 * whose monthly plan is in dunning keeps full use through their prepaid annual one.
 */
export function customerAccess(perCase: SubscriptionAccess[], liveSubscriptions: readonly string[]): AccessAnswer {
  const bySubscription = new Map(perCase.map((s) => [s.subscription, s]));
  for (const id of liveSubscriptions) {
    if (!bySubscription.has(id)) {
      bySubscription.set(id, { subscription: id, access: 'full', invoice: null, stage: null, reason: 'not in dunning', since: null, until: null });
    }
  }
  const all = [...bySubscription.values()];
  if (all.length === 0) return { access: 'full', reason: 'no dunning case', since: null, until: null, subscriptions: [] };
  const best = GENEROSITY.find((level) => all.some((s) => s.access === level))!;
  const top = all.filter((s) => s.access === best);
  // The top level holds until the last of its subscriptions changes.
  const untils = top.map((s) => s.until);
  const until = untils.includes(null) ? null : untils.reduce((a, b) => (a! > b! ? a : b));
  const sinces = top.map((s) => s.since).filter((s): s is string => s !== null);
  const since = sinces.length ? sinces.reduce((a, b) => (a < b ? a : b)) : null;
  const reason = top.length === 1 || best !== 'full' ? top[0]!.reason : 'not in dunning';
  return {
    access: best,
    reason: all.length > 1 ? `${reason} (the most generous of ${all.length} subscriptions)` : reason,
    since,
    until,
    subscriptions: all.map(({ subscription, access, invoice, stage }) => ({ subscription, access, invoice, stage })),
  };
}

/** Whether a level restricts more than another (for an app's "may they still …?"). */
export function isMoreGenerous(a: AccessLevel, b: AccessLevel): boolean {
  return GENEROSITY.indexOf(a) < GENEROSITY.indexOf(b);
}
