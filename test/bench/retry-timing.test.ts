import { describe, expect, it } from 'vitest';
import type { ChargeAttempt } from '#shared/domain/retry-records.ts';
import { classifyFailure } from '#shared/retries/classify.ts';
import { simulateSequence } from '#shared/retries/schedule.ts';
import { chargesPerRecovery, DECLINING_CARDS, failureOf, momentsFrom, planCase, POLICY, sequenceBreaches, wastedAttempts, zoneCases } from './retry-timing.ts';

const START = new Date('2026-03-02T00:00:00Z');
const zones = zoneCases();

describe('the retry timing check', () => {
  it('finds no wasted attempt for any sandbox decline card, on a coarser grid than the bench', () => {
    const result = wastedAttempts({ moments: momentsFrom(START, 28, 53), capMoments: momentsFrom(START, 28, 24 * 7) });

    expect(result.examples).toEqual([]);
    expect(result.wasted).toBe(0);
    expect(result.cards).toBe(DECLINING_CARDS.length);
    expect(result.charges).toBeGreaterThan(1000);
    expect(result.caps.skippedForCap).toBeGreaterThan(0);
    expect(result.caps.heldByCap).toBeGreaterThan(0);
  });

  it('counts a charge of a hard-declined card outside business hours as wasted', () => {
    const card = DECLINING_CARDS.find((c) => c.token === 'pm_card_visa_chargeDeclinedLostCard')!;
    const failure = classifyFailure(failureOf(card));
    const failedAt = new Date('2026-03-06T10:00:00Z');
    const attempts: ChargeAttempt[] = [
      { at: failedAt.toISOString(), by: 'stripe', outcome: 'declined', card: card.token, brand: card.brand, failure },
      // Saturday, 03:00 in UTC.
      { at: '2026-03-07T03:00:00.000Z', by: 'workflow', outcome: 'declined', card: card.token, brand: card.brand, failure, plannedFor: '2026-03-07T03:00:00.000Z' },
    ];

    const breaches = sequenceBreaches(attempts, POLICY, zones.UTC!, failedAt);

    expect(breaches[0]).toEqual([]);
    expect(breaches[1]).toEqual([expect.stringMatching(/^charged a card stopped by: /), "charged outside the customer's business hours"]);
  });

  it('plans, retry by retry, the charges simulateSequence prints when every retry fails', () => {
    for (const card of DECLINING_CARDS.filter((c) => !classifyFailure(failureOf(c)).stopsCard)) {
      for (const failedAt of momentsFrom(START, 28, 97)) {
        const failure = classifyFailure(failureOf(card));
        const zone = zones['America/New_York']!;
        const simulated = simulateSequence({ policy: POLICY, zones: zone, failedAt, failure, card: { id: card.token, brand: card.brand } })
          .steps.filter((s) => s.kind === 'retry')
          .map((s) => new Date(Date.parse(s.at)).toISOString());

        const planned = planCase({ policy: POLICY, zones: zone, failedAt, failure, card: { id: card.token, brand: card.brand } });

        expect(planned.attempts.filter((a) => a.by === 'workflow').map((a) => a.at)).toEqual(simulated);
      }
    }
  });
});

describe('the issuer model', () => {
  it('gives the same figures on every run, and our rules never charge a stopped card', () => {
    const first = chargesPerRecovery({ cases: 300 });
    const second = chargesPerRecovery({ cases: 300 });

    expect(second).toEqual(first);
    expect(first.rules.wasted).toBe(0);
    expect(first.rules.chargesOnHard).toBe(0);
    expect(first.rules.chargesOnNeedsCustomer).toBe(0);
    expect(first.fixed.chargesOnHard).toBeGreaterThan(0);
  });
});
