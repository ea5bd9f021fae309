// The merchant's event bus through EventBridge's PutEvents: one call per batch of up to 10 events.
// A call can succeed with some entries refused (FailedEntryCount): each entry's own answer is kept.
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBusUnavailableError } from '../domain/errors.ts';
import type { BusEvent, EventBus } from '../domain/ports.ts';
import { EVENT_SOURCE } from '../events/catalog.ts';
import { errorName, messageOf } from './aws-errors.ts';

/** PutEvents' own limit on entries per call. */
const MAX_ENTRIES = 10;

export class EventBridgeBus implements EventBus {
  constructor(
    private readonly client: EventBridgeClient,
    /** The bus's name or ARN. */
    private readonly busName: string,
  ) {}

  async publish(events: BusEvent[]): Promise<boolean[]> {
    if (events.length > MAX_ENTRIES) throw new RangeError(`PutEvents takes at most ${MAX_ENTRIES} entries, not ${events.length}`);
    if (events.length === 0) return [];
    let out;
    try {
      out = await this.client.send(
        new PutEventsCommand({
          Entries: events.map((event) => ({
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: event.detailType,
            Detail: JSON.stringify(event.detail),
            Time: new Date(event.time),
          })),
        }),
      );
    } catch (error) {
      // Every failure of the whole call leaves the events in the outbox: none is lost by being refused.
      throw new EventBusUnavailableError(`PutEvents failed (${errorName(error) || 'network'}): ${messageOf(error)}`, { cause: error });
    }
    const entries = out.Entries ?? [];
    return events.map((_, index) => {
      const entry = entries[index];
      return entry !== undefined && !entry.ErrorCode && typeof entry.EventId === 'string';
    });
  }
}
