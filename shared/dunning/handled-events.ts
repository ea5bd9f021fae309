// The Stripe event types the router acts on: each has its line in ROUTES (ingest.ts). Every other
// type is acknowledged and ignored, so this list is what to subscribe to: the webhook endpoint's
// events in the Stripe dashboard, and the EventBridge rule's detail-type filter, which CDK builds from it.
export const HANDLED_EVENT_TYPES = [
  'invoice.payment_failed',
  'invoice.payment_action_required',
  'invoice.paid',
  'invoice.voided',
  'invoice.marked_uncollectible',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.deleted',
  'customer.updated',
  'payment_method.attached',
  // A removed card: Stripe's only event for it (it clears the defaults that named it silently).
  'payment_method.detached',
  'setup_intent.succeeded',
  // Pre-dunning: the heads-up before a renewal the card on file cannot pay, and its cancellation.
  'invoice.upcoming',
  'customer.source.expiring',
  'payment_method.automatically_updated',
] as const;

export type HandledEventType = (typeof HANDLED_EVENT_TYPES)[number];
