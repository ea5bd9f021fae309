// AWS SDK clients built once per process with bounded timeouts. Given an endpoint they talk to the
// loopback services of the local runtime (dynalite, aws-ses-v2-local) with fixed dummy credentials.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

export interface ClientOptions {
  /** A loopback endpoint such as http://127.0.0.1:8000; omit in AWS. */
  endpoint?: string;
}

/** The region and credentials the local services accept; they check neither. */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * A hung socket must not eat a Lambda's whole timeout: fail fast, and let the SDK's own retries
 * (then the state machine's Retry) try again.
 */
function baseConfig({ endpoint }: ClientOptions) {
  return {
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 10_000 },
    ...(endpoint ? { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS } : {}),
  };
}

export function createDynamoClient(options: ClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(baseConfig(options));
}

export function createDynamoDocumentClient(options: ClientOptions = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(createDynamoClient(options), {
    // Optional case fields are often undefined; DynamoDB rejects undefined attribute values.
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSesClient(options: ClientOptions = {}): SESv2Client {
  return new SESv2Client(baseConfig(options));
}

/** In AWS only: the local runtime drives its state machine in-process, not through this client. */
export function createSfnClient(options: ClientOptions = {}): SFNClient {
  return new SFNClient(baseConfig(options));
}

export function createEventBridgeClient(options: ClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient(baseConfig(options));
}
