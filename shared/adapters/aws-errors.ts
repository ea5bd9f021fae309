// Tells apart AWS SDK errors worth retrying (throttling, 5xx, the network) from the rest, so each
// adapter can map them onto the domain's transient error without repeating the rules.

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'LimitExceededException',
  'SlowDown',
]);

const SERVER_NAMES = new Set([
  'InternalServerError',
  'InternalServerErrorException',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceException',
]);

/** Socket-level failures and SDK timeouts: the request may never have reached the service. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'NetworkingError']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: unknown;
}

function shape(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

/** The HTTP status the service answered with, when it answered at all. */
export function httpStatusOf(err: unknown): number | undefined {
  const status = shape(err).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function errorName(err: unknown): string {
  const name = shape(err).name;
  return typeof name === 'string' ? name : '';
}

export function isThrottlingError(err: unknown): boolean {
  return THROTTLING_NAMES.has(errorName(err)) || httpStatusOf(err) === 429;
}

export function isNetworkError(err: unknown): boolean {
  const { code } = shape(err);
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return NETWORK_NAMES.has(errorName(err));
}

/** Throttling, a 5xx, or no answer: retrying later may succeed. */
export function isTransientAwsError(err: unknown): boolean {
  if (isThrottlingError(err) || isNetworkError(err)) return true;
  if (SERVER_NAMES.has(errorName(err))) return true;
  const status = httpStatusOf(err);
  return status !== undefined && status >= 500;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
