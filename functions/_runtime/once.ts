// The per-container builder, apart from lambda-deps.ts so that the webhook, which needs no table
// nor tracer, can build its dependencies once without bundling either.
import { SECRET_MAX_AGE_SECONDS } from '#shared/config.ts';

/**
 * Builds once per container; a failed build (e.g. a Secrets Manager hiccup) is retried next time.
 * With `maxAgeMs`, the next call after that long builds afresh: dependencies holding a secret (the
 * Stripe key, the webhook signing secret) pick up a rotated value within that time, as the secret
 * cache does, instead of keeping the one read at the cold start for the container's whole life.
 */
export function once<T>(build: () => Promise<T>, options: { maxAgeMs?: number; now?: () => number } = {}): () => Promise<T> {
  const now = options.now ?? Date.now;
  let pending: Promise<T> | undefined;
  let builtAt = 0;
  return () => {
    if (pending && options.maxAgeMs !== undefined && now() - builtAt >= options.maxAgeMs) pending = undefined;
    if (!pending) {
      builtAt = now();
      pending = build().catch((error: unknown) => {
        pending = undefined;
        throw error;
      });
    }
    return pending;
  };
}

/** How long dependencies that hold a secret live before they are built again (the secret cache's age). */
export const SECRET_HOLDER_MAX_AGE_MS = SECRET_MAX_AGE_SECONDS * 1000;

