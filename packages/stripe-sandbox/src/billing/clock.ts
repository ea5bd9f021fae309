// Time passing: everything due on a test clock (or on real time) up to a moment, run in time order
// as Stripe runs it by itself: renewals, the draft hour, retries, cancellations, resumptions.
import type Stripe from 'stripe';
import type { Core } from '../core.ts';
import { finalizeInvoice } from './invoices.ts';
import { attemptInvoicePayment, automaticRetry } from './payments.ts';
import { cancelSubscription, change, defaultPaymentMethodFor } from './state.ts';
import { emitUpcomingInvoice, expireIncomplete, renewSubscription, upcomingInvoiceAt } from './subscriptions.ts';

const INCOMPLETE_EXPIRY_SECONDS = 23 * 3600;

interface Due {
  at: number;
  run: () => void;
}

function nextDue(core: Core, clockId: string | null, upTo: number): Due | undefined {
  let best: Due | undefined;
  const consider = (at: number | null | undefined, run: () => void) => {
    if (at === null || at === undefined || at > upTo) return;
    if (!best || at < best.at) best = { at, run };
  };
  for (const sub of core.store.where('subscription', 'test_clock', clockId)) {
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') continue;
    if (sub.status === 'incomplete') {
      consider(sub.created + INCOMPLETE_EXPIRY_SECONDS, () => expireIncomplete(core, sub));
      continue;
    }
    const periodEnd = sub.items.data[0]?.current_period_end;
    if (sub.cancel_at !== null && periodEnd !== undefined && sub.cancel_at < periodEnd) {
      consider(sub.cancel_at, () => cancelSubscription(core, sub, sub.cancel_at!, 'cancellation_requested', false));
    }
    const resumesAt = sub.pause_collection?.resumes_at;
    if (resumesAt) {
      consider(resumesAt, () =>
        change(core, 'customer.subscription.updated', sub, (s) => {
          s.pause_collection = null;
        }),
      );
    }
    if (periodEnd !== undefined) {
      const upcomingAt = upcomingInvoiceAt(core, sub, periodEnd);
      if (upcomingAt !== undefined) consider(upcomingAt, () => emitUpcomingInvoice(core, sub, periodEnd));
      consider(periodEnd, () => renewSubscription(core, sub, periodEnd));
    }
  }
  for (const inv of core.store.where('invoice', 'test_clock', clockId)) {
    if (inv.status === 'open' && inv.next_payment_attempt !== null && inv.auto_advance !== false) {
      // Stripe's own automatic attempt: a renewal finalized by hand during its draft hour, or a retry.
      consider(inv.next_payment_attempt, () => automaticRetry(core, inv));
    }
    if (inv.status !== 'draft' || !inv.auto_advance || inv.automatically_finalizes_at === null) continue;
    consider(inv.automatically_finalizes_at, () => {
      finalizeInvoice(core, inv);
      if (inv.status === 'open' && inv.collection_method === 'charge_automatically') {
        inv.next_payment_attempt = null;
        attemptInvoicePayment(core, inv, defaultPaymentMethodFor(core, inv), 'automatic');
      }
    });
  }
  return best;
}

/**
 * Runs everything due on `clockId` (null: objects on real time) up to `upTo`, in time order,
 * moving the clock to each moment first so objects and events carry that time.
 */
export function processDue(core: Core, clockId: string | null, upTo: number): number {
  const clock = clockId ? core.store.get('test_clock', clockId) : undefined;
  let steps = 0;
  for (; steps < 10_000; steps++) {
    const due = nextDue(core, clockId, upTo);
    if (!due) break;
    if (clock && due.at > clock.frozen_time) clock.frozen_time = due.at;
    // What time causes, Stripe does by itself: its events carry no request (request.id null).
    const request = core.request;
    core.request = { id: null, idempotencyKey: null };
    try {
      due.run();
    } finally {
      core.request = request;
    }
  }
  if (steps > 0) core.store.scheduleSave();
  return steps;
}

export function advanceClock(core: Core, clock: Stripe.TestHelpers.TestClock, target: number): void {
  clock.status = 'advancing';
  clock.status_details = { advancing: { target_frozen_time: target } } as Stripe.TestHelpers.TestClock.StatusDetails;
  core.emit('test_helpers.test_clock.advancing', clock);
  processDue(core, clock.id, target);
  clock.frozen_time = target;
  clock.status = 'ready';
  clock.status_details = {} as Stripe.TestHelpers.TestClock.StatusDetails;
  core.emit('test_helpers.test_clock.ready', clock);
}
