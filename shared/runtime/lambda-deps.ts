// What every function's dependencies are built from: a builder that runs once per container, and
// the table. Each function's own wiring lives beside this, one module per kind of function
// (stage-deps, ingest-deps, table-deps, payment-link-deps, open-cases-deps), so that a function's bundle holds only
// the clients and code it uses: esbuild keeps every module a handler imports, used or not.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoDocumentClient } from '../adapters/aws-clients.ts';
import { tracer } from './powertools.ts';

/** Builds once per container; a failed build (e.g. a Secrets Manager hiccup) is retried next time. */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/** The document client every function reaches the table through, its calls traced in X-Ray. */
export function tracedDocumentClient(): DynamoDBDocumentClient {
  const documentClient = createDynamoDocumentClient({});
  tracer.captureAWSv3Client(documentClient);
  return documentClient;
}
