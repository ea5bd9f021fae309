// What the operator CLI says after acting, and what npm start's live timeline says of it: each answer reads as sentences, whatever Stripe's own
// message looks like, so an operator can paste it into a ticket as it is.
import { describe, expect, it } from 'vitest';
import { retryNowMessage } from '#cli/commands.ts';
import { operatorWhat } from '#local/timeline.ts';

const GBP15 = { amount: 1500, currency: 'gbp' };

describe('retryNowMessage', () => {
  it('gives a declined charge Stripe\'s message as its own sentence, then says the sequence goes on', () => {
    const said = retryNowMessage('in_1', GBP15, { outcome: 'declined', code: 'card_declined', message: 'Your card was declined.' });
    expect(said).toEqual({ failed: true, text: 'in_1: declined (card_declined): Your card was declined. The sequence goes on.' });
  });

  it('ends a Stripe message that has no full stop with one, never with ".;"', () => {
    const said = retryNowMessage('in_1', GBP15, { outcome: 'declined', code: 'insufficient_funds', message: 'Your card has insufficient funds' });
    expect(said.text).toBe('in_1: declined (insufficient_funds): Your card has insufficient funds. The sequence goes on.');
  });

  it('says every outcome in full sentences, without a semicolon splice', () => {
    const results = [
      { outcome: 'paid', recovered: true },
      { outcome: 'paid', recovered: false },
      { outcome: 'already_paid', recovered: true },
      { outcome: 'already_paid', recovered: false },
      { outcome: 'declined', code: 'generic_decline', message: 'Your card was declined.' },
      { outcome: 'skipped', code: 'stolen_card' },
      { outcome: 'busy' },
      { outcome: 'not_open', status: 'recovered' },
    ] as const;
    const texts = results.map((r) => retryNowMessage('in_1', GBP15, r).text);

    expect(texts).toEqual([
      'in_1: paid £15.00. The case is recovered and the customer thanked.',
      'in_1: paid £15.00. The case stays open: another invoice of it is unpaid.',
      'in_1: already paid in Stripe. The case is recovered.',
      'in_1: already paid in Stripe. The case stays open: another invoice of it is unpaid.',
      'in_1: declined (generic_decline): Your card was declined. The sequence goes on.',
      'in_1: not charged: the card on file hard-declined before (stolen_card). The customer must put in a new card.',
      'in_1: another charge of this invoice is in flight. Try again in a minute.',
      'in_1: the case is recovered. There is nothing to charge.',
    ]);
    for (const text of texts) {
      expect(text).not.toMatch(/[.;]\s*;|\.;/);
      expect(text).toMatch(/\.$/);
    }
  });

  it('fails the command only when nothing was paid', () => {
    expect(retryNowMessage('in_1', GBP15, { outcome: 'paid', recovered: true }).failed).toBe(false);
    expect(retryNowMessage('in_1', GBP15, { outcome: 'already_paid', recovered: false }).failed).toBe(false);
    expect(retryNowMessage('in_1', GBP15, { outcome: 'busy' }).failed).toBe(true);
  });
});

describe('operatorWhat', () => {
  it('says what the operator did, with a pause\'s date and clock short enough for the timeline\'s column', () => {
    const paused = operatorWhat({ at: '2026-12-07T00:00:00.000Z', type: 'paused', detail: 'by operator until 2027-01-09T10:00:00.000Z (test clock)' });
    expect(paused).toBe('paused by operator until 2027-01-09 10:00Z (test clock)');
    expect(paused.length).toBeLessThanOrEqual(58);
  });

  it('gives a close its reason and a replay its event', () => {
    expect(operatorWhat({ at: '', type: 'closed', detail: 'closed by operator: refunded' })).toBe('closed by operator: refunded');
    expect(operatorWhat({ at: '', type: 'event_replayed', detail: 'invoice.paid (replayed by operator)' })).toBe('event_replayed: invoice.paid (replayed by operator)');
  });
});
