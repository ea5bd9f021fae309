// Stripe idempotency keys for the product's writes (pay, cancel), unique per stage invocation.
import type { DunningCase } from '../domain/case.ts';

/**
 * The SDK's own network retry reuses the key, so one invocation never charges twice. A new
 * invocation (after a 5xx, a crash) gets a new key, because Stripe replays a saved 500 for a reused
 * key. Each stage reads the invoice first, and Stripe refuses to pay a paid invoice, so a new key
 * cannot cause a second charge.
 */
export function stripeKey(dunningCase: DunningCase, stage: string): string {
  return `dunning:${dunningCase.executionName}:${stage}:run${dunningCase.stageRuns ?? 0}`;
}
