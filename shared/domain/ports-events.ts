// The event bus the product publishes the merchant's events on (Amazon EventBridge).

/** One event as the bus takes it: the detail-type and the detail, published at `time`. */
export interface BusEvent {
  detailType: string;
  detail: Record<string, unknown>;
  /** When the state change happened (ISO 8601): the EventBridge event's `time`. */
  time: string;
}

/** The merchant's event bus. */
export interface EventBus {
  /**
   * Publishes up to 10 events in one call. Answers, per event in order, whether the bus took it:
   * a call can succeed with some entries refused. Throws EventBusUnavailableError when the whole
   * call failed in a way worth retrying.
   */
  publish(events: BusEvent[]): Promise<boolean[]>;
}
