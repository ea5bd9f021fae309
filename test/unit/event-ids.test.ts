// An event's id is what consumers dedupe on: a republished entry keeps it, and a once-only entry
// (a close, a policy day's access change) written twice, by a call that died and its retry, or by
// two calls racing, must publish the same id both times.
import { describe, expect, it } from 'vitest';
import type { DunningCase, TimelineEntry } from '#shared/domain/case.ts';
import { eventIdOf, eventOf } from '#shared/events/from-timeline.ts';

const dunningCase = {
  invoiceId: 'in_1QxYzA2eZvKYlo2C',
  customerId: 'cus_Qx7aB2cD3eF4',
  subscriptionId: 'sub_1QxYz02eZvKYlo2C',
  status: 'recovered',
  amountDue: { amount: 4900, currency: 'eur' },
  livemode: false,
  failedAt: '2026-12-01T09:00:00.000Z',
  terminatesAt: '2026-12-15T09:00:00.000Z',
  executionName: 'in_1QxYzA2eZvKYlo2C',
  noticesSent: [],
  createdAt: '2026-12-01T09:00:00.000Z',
  updatedAt: '2026-12-03T10:00:00.000Z',
} satisfies DunningCase;

describe('event ids', () => {
  it("are the timeline item's own key for an entry that can happen many times", () => {
    expect(eventIdOf('in_1', 'TIMELINE#2026-12-03T10:00:00.000Z#00000001abc123')).toBe('in_1/2026-12-03T10:00:00.000Z#00000001abc123');
  });

  it('are the same for two copies of a once-only entry, whatever their item keys', () => {
    const recovered: TimelineEntry = { at: '2026-12-03T10:00:00.000Z', type: 'recovered', detail: 'paid: card_updated', facts: { recoveredBy: 'card_updated' }, eventKey: 'recovered' };
    const first = eventOf(recovered, 'TIMELINE#2026-12-03T10:00:00.000Z#00000001abc123', dunningCase);
    const again = eventOf(recovered, 'TIMELINE#2026-12-03T10:00:00.000Z#00000007zz9x8w', dunningCase);

    expect(first?.detail.eventId).toBe('in_1QxYzA2eZvKYlo2C/recovered');
    expect(again?.detail.eventId).toBe(first?.detail.eventId);
  });

  it('differ between the access changes of different policy days', () => {
    const change = (day: number): TimelineEntry => ({
      at: '2026-12-08T09:00:00.000Z',
      type: 'access_changed',
      facts: { access: 'limited', previousAccess: 'grace', reason: `day ${day} of dunning`, until: null },
      eventKey: `access/day-${day}`,
    });
    const ids = [7, 10].map((day) => eventOf(change(day), 'TIMELINE#x', dunningCase)?.detail.eventId);
    expect(ids).toEqual(['in_1QxYzA2eZvKYlo2C/access/day-7', 'in_1QxYzA2eZvKYlo2C/access/day-10']);
  });
});
