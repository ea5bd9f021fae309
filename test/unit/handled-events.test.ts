// HANDLED_EVENT_TYPES is what the EventBridge rule subscribes to, so it must name exactly the types
// the router acts on: a type missing from it would never arrive by EventBridge.
import { describe, expect, it } from 'vitest';
import { systemClock } from '#shared/domain/ports.ts';
import { noMetrics, silentLog, type IngestDeps } from '#shared/dunning/deps.ts';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { ingestStripeEvent } from '#shared/dunning/ingest.ts';
import type { StripeEventEnvelope } from '#shared/dunning/invoice-event.ts';

/** Only what routing needs (the clock notes when the event arrived); any other dependency touched fails the test. */
const routingOnly = new Proxy({ livemode: false, log: silentLog, metrics: noMetrics, clock: systemClock } as Partial<IngestDeps>, {
  get(target, key: string) {
    if (key in target) return target[key as keyof IngestDeps];
    throw new Error(`routing touched deps.${key}`);
  },
}) as IngestDeps;

/** An event of `type` whose object is empty: a handled type fails to parse it, an ignored one never looks. */
const emptyEvent = (type: string): StripeEventEnvelope => ({
  id: 'evt_routing',
  object: 'event',
  type,
  created: 1_700_000_000,
  livemode: false,
  data: { object: {} },
});

describe('HANDLED_EVENT_TYPES', () => {
  it.each(HANDLED_EVENT_TYPES)('names %s, which the router acts on', async (type) => {
    await expect(ingestStripeEvent(routingOnly, emptyEvent(type))).rejects.toMatchObject({ name: 'InvalidInputError' });
  });

  it.each(['invoice.created', 'invoice.finalized', 'invoice.payment_succeeded', 'customer.subscription.created', 'charge.failed'])(
    'leaves out %s, which the router ignores',
    async (type) => {
      await expect(ingestStripeEvent(routingOnly, emptyEvent(type))).resolves.toMatchObject({
        action: 'ignored',
        reason: expect.stringMatching(/not handled/),
      });
    },
  );
});
