// The router behind the webhook's queue: a batch's events of one customer routed one after another in
// the order given, customers at once, and a failed event reported with every later event of its
// customer, so none overtakes it when the queue hands them over again. And which customer an event
// is about (its message group).
import { describe, expect, it } from 'vitest';
import { silentLog } from '#shared/dunning/deps.ts';
import { eventGroupOf } from '#shared/dunning/event-group.ts';
import type { StripeEventEnvelope } from '#shared/dunning/invoice-event.ts';
import { routeStoredEvents, type RouteEventsDeps } from '#shared/dunning/route-events.ts';
import { recordingMetrics } from '../fixtures/metrics.ts';

const event = (id: string, object: Record<string, unknown>, previous?: Record<string, unknown>): StripeEventEnvelope => ({
  id,
  object: 'event',
  type: 'invoice.paid',
  created: 1_700_000_000,
  livemode: false,
  data: { object, ...(previous ? { previous_attributes: previous } : {}) },
});
const message = (id: string, group: string) => ({ messageId: id, group, body: JSON.stringify(event(`evt_${id}`, { id: `in_${id}`, customer: group })) });

function deps(behaviour: Record<string, { delayMs?: number; fail?: boolean }> = {}) {
  const log: string[] = [];
  const d: RouteEventsDeps = {
    log: silentLog,
    metrics: recordingMetrics(),
    processOnce: async (e) => {
      const id = e.id.replace('evt_', '');
      log.push(`start ${id}`);
      await new Promise((resolve) => setTimeout(resolve, behaviour[id]?.delayMs ?? 0));
      log.push(`end ${id}`);
      if (behaviour[id]?.fail) throw new Error('Stripe is down');
      return { action: 'ignored', reason: 'test' };
    },
  };
  return { d, log };
}

describe('routeStoredEvents', () => {
  it("routes one customer's events in the order given, the second after the first even when the first is slow", async () => {
    const { d, log } = deps({ a1: { delayMs: 50 } });

    const { failed } = await routeStoredEvents(d, [message('a1', 'cus_a'), message('a2', 'cus_a')]);

    expect(failed).toEqual([]);
    expect(log).toEqual(['start a1', 'end a1', 'start a2', 'end a2']);
  });

  it('routes two customers at once', async () => {
    const { d, log } = deps({ a1: { delayMs: 50 } });

    await routeStoredEvents(d, [message('a1', 'cus_a'), message('b1', 'cus_b')]);

    expect(log).toEqual(['start a1', 'start b1', 'end b1', 'end a1']);
  });

  it('reports a failed event and every later event of its customer, untouched, and nothing of another customer', async () => {
    const { d, log } = deps({ a1: { fail: true } });

    const { failed, outcomes } = await routeStoredEvents(d, [message('a1', 'cus_a'), message('b1', 'cus_b'), message('a2', 'cus_a')]);

    expect(failed).toEqual(['a1', 'a2']);
    expect(outcomes.a2).toMatchObject({ action: 'skipped' });
    expect(log).not.toContain('start a2');
    expect(log).toContain('end b1');
  });

  it('leaves a message that is not a Stripe event failing (to the dead-letter queue), never dropped', async () => {
    const { d } = deps();

    const { failed, outcomes } = await routeStoredEvents(d, [{ messageId: 'x', group: 'g', body: '{"hello":"world"}' }]);

    expect(failed).toEqual(['x']);
    expect(outcomes.x).toMatchObject({ action: 'failed', reason: expect.stringMatching(/not a Stripe event/) });
  });
});

describe('eventGroupOf', () => {
  it.each([
    ['an invoice, by its customer', event('evt_1', { object: 'invoice', id: 'in_1', customer: 'cus_1' }), 'cus_1'],
    ['an expanded customer', event('evt_2', { object: 'subscription', id: 'sub_1', customer: { id: 'cus_2' } }), 'cus_2'],
    ['a customer, by itself', event('evt_3', { object: 'customer', id: 'cus_3' }), 'cus_3'],
    ['a detached card, by the customer it had', event('evt_4', { object: 'payment_method', id: 'pm_1', customer: null }, { customer: 'cus_4' }), 'cus_4'],
    ['an object of no customer, by its own id', event('evt_5', { object: 'plan', id: 'price_1' }), 'price_1'],
  ])('groups %s', (_what, e, group) => {
    expect(eventGroupOf(e)).toBe(group);
  });
});
