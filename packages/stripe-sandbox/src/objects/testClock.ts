// Builds `test_helpers.test_clock` objects and their deleted form.
import type Stripe from 'stripe';
import { fixture } from '../fixtures.ts';
import { newId } from '../ids.ts';

const THIRTY_DAYS = 30 * 86_400;

export function buildTestClock(f: { created: number; frozenTime: number; name: string | null }): Stripe.TestHelpers.TestClock {
  const c = fixture<Stripe.TestHelpers.TestClock>('test_helpers.test_clock');
  c.id = newId('clock');
  c.created = f.created;
  // Stripe deletes test clocks (and everything on them) 30 days after creation.
  c.deletes_after = f.created + THIRTY_DAYS;
  c.frozen_time = f.frozenTime;
  c.livemode = false;
  c.name = f.name;
  c.status = 'ready';
  c.status_details = {} as Stripe.TestHelpers.TestClock.StatusDetails;
  return c;
}

export function deletedTestClock(id: string): Stripe.TestHelpers.DeletedTestClock {
  const d = fixture<Stripe.TestHelpers.DeletedTestClock>('deleted_test_helpers.test_clock');
  d.id = id;
  d.deleted = true;
  return d;
}
