// An independent check of a charge against the retry rules, written apart from the planner
// (plan.ts) so that one checks the other: the WastedAttempt metric, which must stay 0, and the
// benchmark's count of wasted attempts. Pure.
import type { ChargeAttempt } from '../domain/retry-records.ts';
import type { RetryTiming } from '../policy/retry-timing.ts';
import { inWindow } from './calendar.ts';

const DAY_MS = 86_400_000;

/**
 * The rules `attempt` broke, given the attempts before it (oldest first), or none:
 * - it charged a card whose last decline said never again, or only once the customer acts;
 * - it went past the card network's cap of reattempts after a decline;
 * - ours (a scheduled retry) charged outside the customer's business hours, in every zone given.
 * A charge of a new card, by the customer's act, is held to the first two only.
 */
export function ruleBreaches(attempt: ChargeAttempt, before: readonly ChargeAttempt[], timing: RetryTiming, zones: readonly string[]): string[] {
  const breaches: string[] = [];
  const sameCard = before.filter((a) => attempt.card === undefined || a.card === undefined || a.card === attempt.card);
  let stopped: string | undefined;
  for (const a of sameCard) {
    if (a.outcome === 'paid') stopped = undefined;
    else if (a.failure?.stopsCard) stopped = a.failure.reason;
    else stopped = undefined;
  }
  if (stopped) breaches.push(`charged a card stopped by: ${stopped}`);
  const brand = attempt.brand ?? sameCard.find((a) => a.brand)?.brand;
  const cap = (brand && timing.caps[brand]) || timing.caps.default;
  if (cap) {
    const at = Date.parse(attempt.at);
    const declines = sameCard.filter((a) => a.outcome === 'declined' && Date.parse(a.at) > at - cap.days * DAY_MS && Date.parse(a.at) <= at);
    // The first decline is the attempt; each charge after it is a reattempt.
    if (declines.length > 0 && declines.length > cap.reattempts) {
      breaches.push(`reattempt ${declines.length} of the card in ${cap.days} days, past the ${brand ?? 'default'} cap of ${cap.reattempts}`);
    }
  }
  if (attempt.by === 'workflow' && !inWindow(new Date(attempt.plannedFor ?? attempt.at), timing.window, zones)) {
    breaches.push('charged outside the customer\'s business hours');
  }
  return breaches;
}
