// GET /customers/{id}/access: what the customer may use right now. Read from their cases (each read
// consistently, so the answer is never stale after a payment) and, only when one of them restricts,
// from Stripe's list of their subscriptions, so a healthy one is answered `full` beside it.
import type { Cases, CaseQueries, Subscriptions } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { accessOfCase, customerAccess, type AccessAnswer, type SubscriptionAccess } from './access.ts';
import { policyOf, type Uses } from './deps.ts';
import { businessClock, scheduleAnchor } from './retry-plan.ts';

export type CustomerAccessDeps = Uses<'policy' | 'policies' | 'clock' | 'caseClock', Pick<Cases, 'getCase'> & Pick<CaseQueries, 'listCasesOfCustomer'>, Pick<Subscriptions, 'listLiveSubscriptions'>>;

export async function customerAccessNow(deps: CustomerAccessDeps, customerId: string): Promise<AccessAnswer> {
  // The index is eventually consistent: it finds the cases; each is read again from the table. A
  // case opened a moment ago may be missed for that moment, which answers the more generous `full`.
  const listed = await deps.store.listCasesOfCustomer(customerId);
  const newest = new Map<string, DunningCase>();
  for (const c of listed) {
    const seen = newest.get(c.subscriptionId);
    if (!seen || c.createdAt > seen.createdAt) newest.set(c.subscriptionId, c);
  }
  const now = deps.clock.now();
  const perCase: SubscriptionAccess[] = [];
  for (const listedCase of newest.values()) {
    const dunningCase = (await deps.store.getCase(listedCase.invoiceId)) ?? listedCase;
    perCase.push(accessOfCase(policyOf(deps, dunningCase), dunningCase, now, businessClock(deps, dunningCase), scheduleAnchor(deps, dunningCase)));
  }
  const restricted = perCase.some((s) => s.access !== 'full');
  const live = restricted ? await deps.stripe.listLiveSubscriptions(customerId) : [];
  return customerAccess(perCase, live);
}
