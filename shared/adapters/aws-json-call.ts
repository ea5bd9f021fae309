// One AWS JSON-protocol request (SQS's AWS JSON 1.0, Secrets Manager's 1.1), signed with the SDK's
// own SigV4 signer and sent with fetch. Only the webhook uses it, in place of the SDK's clients.
//
// Why not the SDK clients, which do this: the webhook must answer at wire speed, and its bundle and
// cold start are budgeted (300 KB, init within 50 ms of an empty handler; BENCHMARKS.md section 3).
// The SQS and Secrets Manager clients brought 240 KB of the webhook's 440 (smithy core, the
// credential-provider chain, the clients) and most of its init. What is ours here is the transport
// and the JSON framing; the signature is @smithy/signature-v4 with @smithy/hash-node, the code the
// SDK itself signs with. Credentials are Lambda's: the function's role session in the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), which Lambda always sets; the
// endpoint honours AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL as the SDK does.
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** The services this module speaks to, with their signing names and JSON protocol framing. */
export const AWS_JSON_SERVICES = {
  sqs: { signingName: 'sqs', endpointVariable: 'AWS_ENDPOINT_URL_SQS', targetPrefix: 'AmazonSQS', contentType: 'application/x-amz-json-1.0' },
  secretsManager: {
    signingName: 'secretsmanager',
    endpointVariable: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
    targetPrefix: 'secretsmanager',
    contentType: 'application/x-amz-json-1.1',
  },
} as const;
export type AwsJsonService = keyof typeof AWS_JSON_SERVICES;

/** An AWS service answered with an error (its `__type`, e.g. `QueueDoesNotExist`), or never answered. */
export class AwsServiceError extends Error {
  override readonly name = 'AwsServiceError';
  constructor(
    message: string,
    /** The error's short type, e.g. `ThrottlingException`; `NetworkError` or `TimeoutError` without an answer. */
    readonly code: string,
    /** The HTTP status, absent when there was no answer. */
    readonly statusCode?: number,
  ) {
    super(message);
  }
}

export interface AwsJsonCallOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Tries in all, for throttling, a 5xx or no answer; never for a 4xx. @default 3 */
  maxAttempts?: number;
  /** Each try's limit. @default 5000 */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Error types the SDK's standard retry strategy treats as throttling (plus any 429 or 5xx). */
const THROTTLING = new Set(['ThrottlingException', 'Throttling', 'RequestThrottled', 'RequestThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded']);

/** Where a service is in a region: the endpoint variable if set, else its regional endpoint. */
export function awsEndpointOf(service: AwsJsonService, env: NodeJS.ProcessEnv = process.env): URL {
  const { signingName, endpointVariable } = AWS_JSON_SERVICES[service];
  const configured = env[endpointVariable] ?? env.AWS_ENDPOINT_URL;
  if (configured) return new URL(configured);
  const region = regionOf(env);
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return new URL(`https://${signingName}.${region}.${domain}/`);
}

function regionOf(env: NodeJS.ProcessEnv): string {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new AwsServiceError('AWS_REGION is not set (Lambda sets it; set it to call AWS from elsewhere)', 'ConfigError');
  return region;
}

function credentialsOf(env: NodeJS.ProcessEnv) {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new AwsServiceError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the function role)', 'ConfigError');
  }
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/**
 * Calls `operation` (e.g. `SendMessage`) with `input` and answers the parsed JSON output. Throttling,
 * a 5xx and no answer are tried again with full-jitter backoff, as the SDK's standard mode does.
 */
export async function awsJsonCall<T = Record<string, unknown>>(service: AwsJsonService, operation: string, input: unknown, options: AwsJsonCallOptions = {}): Promise<T> {
  const env = options.env ?? process.env;
  const { signingName, targetPrefix, contentType } = AWS_JSON_SERVICES[service];
  const endpoint = awsEndpointOf(service, env);
  const signer = new SignatureV4({ service: signingName, region: regionOf(env), credentials: credentialsOf(env), sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
  const body = JSON.stringify(input);
  const maxAttempts = options.maxAttempts ?? 3;
  const send = options.fetch ?? fetch;
  for (let attempt = 1; ; attempt++) {
    // Signed per try: the signature carries the moment, and a retry after a clock-skewed answer needs a fresh one.
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      ...(endpoint.port ? { port: Number(endpoint.port) } : {}),
      path: endpoint.pathname || '/',
      query: {},
      headers: { host: endpoint.host, 'content-type': contentType, 'x-amz-target': `${targetPrefix}.${operation}` },
      body,
    });
    let error: AwsServiceError;
    try {
      const response = await send(new URL(endpoint.pathname || '/', endpoint), {
        method: 'POST',
        headers: signed.headers,
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      const text = await response.text();
      if (response.ok) return (text ? JSON.parse(text) : {}) as T;
      error = errorOf(service, operation, response.status, response.headers.get('x-amzn-errortype'), text);
      const retryable = response.status >= 500 || response.status === 429 || THROTTLING.has(error.code);
      if (!retryable || attempt >= maxAttempts) throw error;
    } catch (thrown) {
      if (thrown instanceof AwsServiceError) throw thrown;
      const timedOut = (thrown as Error).name === 'TimeoutError';
      error = new AwsServiceError(`${service} ${operation}: ${timedOut ? 'no answer in time' : (thrown as Error).message}`, timedOut ? 'TimeoutError' : 'NetworkError');
      if (attempt >= maxAttempts) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(1_000, 100 * 2 ** attempt)));
  }
}

/** AWS JSON errors name their type in `__type` (`com.amazonaws.sqs#QueueDoesNotExist`) or x-amzn-errortype. */
function errorOf(service: AwsJsonService, operation: string, status: number, headerType: string | null, text: string): AwsServiceError {
  let parsed: { __type?: string; message?: string; Message?: string } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  const type = (parsed.__type ?? headerType ?? `HTTP${status}`).split(':')[0]!.split('#').pop()!;
  const message = parsed.message ?? parsed.Message ?? (text.slice(0, 200) || `HTTP ${status}`);
  return new AwsServiceError(`${service} ${operation}: ${type}: ${message}`, type, status);
}
