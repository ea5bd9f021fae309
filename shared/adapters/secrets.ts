// Resolves a configured secret: given directly (local runtime) or read from Secrets Manager by ARN
// through Powertools Parameters, which caches it across invocations of a warm container.
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { SECRET_MAX_AGE_SECONDS, type SecretRef } from '../config.ts';
import { InvalidInputError } from '../domain/errors.ts';

export { SECRET_MAX_AGE_SECONDS };

/** The secret string is the value itself (no JSON wrapper); surrounding whitespace is dropped. */
export async function resolveSecret(ref: SecretRef): Promise<string> {
  if (ref.kind === 'plain') return ref.value.trim();
  const secret = await getSecret(ref.arn, { maxAge: SECRET_MAX_AGE_SECONDS });
  const value = typeof secret === 'string' ? secret : secret instanceof Uint8Array ? new TextDecoder().decode(secret) : '';
  if (value.trim() === '') throw new InvalidInputError(`secret ${ref.arn} has no value`);
  return value.trim();
}
