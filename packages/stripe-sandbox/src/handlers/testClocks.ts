// /v1/test_helpers/test_clocks: frozen time for customers, advanced on demand to run renewals.
import { advanceClock } from '../billing/clock.ts';
import { cancelSubscription } from '../billing/state.ts';
import { render } from '../expand.ts';
import { invalidRequest } from '../errors.ts';
import { paginate } from '../list.ts';
import { mustGet } from '../lookup.ts';
import { buildTestClock, deletedTestClock } from '../objects/testClock.ts';
import { route, type Ctx, type Route } from '../router.ts';
import { realNow } from '../time.ts';

function createClock({ core, params: p }: Ctx): unknown {
  const clock = buildTestClock({ created: realNow(), frozenTime: p.requireInt('frozen_time'), name: p.string('name') ?? null });
  core.store.put('test_clock', clock);
  core.emit('test_helpers.test_clock.created', clock);
  return render(core, clock, p.expand());
}

function advance({ core, args, params: p }: Ctx): unknown {
  const clock = mustGet(core, 'test_clock', args[0]!);
  const target = p.requireInt('frozen_time');
  if (target <= clock.frozen_time) {
    throw invalidRequest('The new frozen_time must be after the current frozen_time of the test clock.', { param: 'frozen_time' });
  }
  advanceClock(core, clock, target);
  // Stripe answers while the clock is still advancing; the work here is already done, so the
  // next retrieve reads `ready` and every event the advance caused already exists.
  const reply = render(core, clock, p.expand());
  reply.status = 'advancing';
  reply.status_details = { advancing: { target_frozen_time: target } } as typeof reply.status_details;
  return reply;
}

function deleteClock({ core, args }: Ctx): unknown {
  const clock = mustGet(core, 'test_clock', args[0]!);
  // Deleting a clock deletes everything that lives on it.
  for (const sub of core.store.where('subscription', 'test_clock', clock.id)) {
    if (sub.status !== 'canceled' && sub.status !== 'incomplete_expired') {
      cancelSubscription(core, sub, clock.frozen_time, 'cancellation_requested', true);
    }
  }
  for (const customer of core.store.all('customer')) {
    if (customer.test_clock === clock.id) core.store.state.deletedCustomers[customer.id] = clock.frozen_time;
  }
  core.store.remove('test_clock', clock.id);
  core.emit('test_helpers.test_clock.deleted', clock);
  return deletedTestClock(clock.id);
}

export const testClockRoutes: Route[] = [
  route('POST', '/v1/test_helpers/test_clocks', createClock),
  route('GET', '/v1/test_helpers/test_clocks', ({ core, params }) => paginate(core, core.store.all('test_clock'), params, '/v1/test_helpers/test_clocks')),
  route('GET', '/v1/test_helpers/test_clocks/:id', ({ core, args, params }) => render(core, mustGet(core, 'test_clock', args[0]!), params.expand())),
  route('DELETE', '/v1/test_helpers/test_clocks/:id', deleteClock),
  route('POST', '/v1/test_helpers/test_clocks/:id/advance', advance),
];
