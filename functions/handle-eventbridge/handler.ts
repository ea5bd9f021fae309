// Stripe's Amazon EventBridge destination: the partner bus's rule invokes this with each event,
// which is validated and routed once, sharing the webhook's dedupe.
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { receiveEventBridgeEvent, type EventBridgeDeps, type EventBridgeResult } from '#shared/dunning/eventbridge.ts';
import { eventBridgeDeps } from '#functions/_runtime/ingest-deps.ts';
import { instrument } from '#functions/_runtime/powertools.ts';

export function createHandler(deps: () => Promise<EventBridgeDeps>) {
  return async (event: EventBridgeEvent<string, unknown>, context?: Context): Promise<EventBridgeResult> => {
    const d = await deps();
    if (context) d.registerDeadline(context);
    return receiveEventBridgeEvent(d, event);
  };
}

export const handler = instrument('handle-eventbridge', createHandler(eventBridgeDeps));
