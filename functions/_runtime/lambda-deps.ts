// What every function's dependencies are built from: a builder that runs once per container, and
// the table. Each function's own wiring lives beside this, one module per kind of function
// (stage-deps, ingest-deps, table-deps, payment-link-deps, open-cases-deps, flag-case-deps), so that a function's bundle holds only
// the clients and code it uses: esbuild keeps every module a handler imports, used or not.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoDocumentClient } from '#shared/adapters/aws-clients.ts';
import { SECRET_MAX_AGE_SECONDS } from '#shared/config.ts';
import { tracer } from './powertools.ts';

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

/** The document client every function reaches the table through, its calls traced in X-Ray. */
export function tracedDocumentClient(): DynamoDBDocumentClient {
  const documentClient = createDynamoDocumentClient({});
  tracer.captureAWSv3Client(documentClient);
  return documentClient;
}
