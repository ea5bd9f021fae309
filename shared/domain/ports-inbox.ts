// Where the webhook leaves each verified Stripe event for the router behind it (Amazon SQS FIFO).

/** One verified event, as the webhook stores it. */
export interface InboxEvent {
  /** The Stripe event id: the inbox keeps one copy of each. */
  id: string;
  /** Events of one group are routed one at a time, in the order they were stored. */
  group: string;
  /** The exact bytes Stripe signed. */
  body: string;
}

/** The inbox in front of the router. */
export interface EventInbox {
  /** Stores the event durably, or throws: only then may the webhook answer Stripe 200. */
  store(event: InboxEvent): Promise<void>;
}
