// What every function's dependencies are built from: a builder that runs once per container, and
// the table. Each function's own wiring lives beside this, one module per kind of function
// (stage-deps, ingest-deps, table-deps, payment-link-deps, open-cases-deps, flag-case-deps), so that a function's bundle holds only
// the clients and code it uses: esbuild keeps every module a handler imports, used or not.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoDocumentClient } from '#shared/adapters/aws-clients.ts';
import { tracer } from './tracer.ts';

export { once, SECRET_HOLDER_MAX_AGE_MS } from './once.ts';

/** The document client every function reaches the table through, its calls traced in X-Ray. */
export function tracedDocumentClient(): DynamoDBDocumentClient {
  const documentClient = createDynamoDocumentClient({});
  tracer.captureAWSv3Client(documentClient);
  return documentClient;
}
