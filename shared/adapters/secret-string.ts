// The webhook's signing secret, read with one signed GetSecretValue (aws-json-call.ts) rather than
// Powertools Parameters and the Secrets Manager client, which the other functions use
// (secrets.ts): the webhook's bundle and init are budgeted. The webhook's dependencies are built
// again once older than SECRET_MAX_AGE_SECONDS (functions/_runtime/once.ts), which is the cache.
import type { SecretRef } from '../config.ts';
import { InvalidInputError } from '../domain/errors.ts';
import { awsJsonCall, type AwsJsonCallOptions } from './aws-json-call.ts';

/** The secret string is the value itself (no JSON wrapper); surrounding whitespace is dropped. */
export async function readSecretString(ref: SecretRef, options: AwsJsonCallOptions = {}): Promise<string> {
  if (ref.kind === 'plain') return ref.value.trim();
  const output = await awsJsonCall<{ SecretString?: string; SecretBinary?: string }>('secretsManager', 'GetSecretValue', { SecretId: ref.arn }, options);
  // SecretBinary comes base64-encoded in the JSON protocol.
  const value = output.SecretString ?? (output.SecretBinary ? Buffer.from(output.SecretBinary, 'base64').toString('utf8') : '');
  if (value.trim() === '') throw new InvalidInputError(`secret ${ref.arn} has no value`);
  return value.trim();
}
