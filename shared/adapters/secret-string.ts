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

/**
 * A secret held for the container's dependencies that can be read again on demand: a signature that
 * fails under the held webhook secret may be one made with a new secret (`dunning connect` stored
 * it, or it was rolled in Stripe) that this container has not read yet. The first such failure reads
 * it again at once (right after `connect`, however recently the container started); after that, at
 * most once per `minRefreshMs`, so forged deliveries cannot turn into a GetSecretValue each.
 */
export class RefreshableSecret {
  private value = '';
  private refreshedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly read: () => Promise<string>,
    private readonly options: { minRefreshMs: number; now?: () => number },
  ) {}

  static async load(read: () => Promise<string>, options: { minRefreshMs: number; now?: () => number }): Promise<RefreshableSecret> {
    const secret = new RefreshableSecret(read, options);
    await secret.readNow();
    return secret;
  }

  get current(): string {
    return this.value;
  }

  /** Reads the secret again unless the last re-read is too recent: true if it changed. A failed read changes nothing. */
  async refresh(): Promise<boolean> {
    if (this.now() - this.refreshedAt < this.options.minRefreshMs) return false;
    this.refreshedAt = this.now();
    const before = this.value;
    try {
      await this.readNow();
    } catch {
      return false;
    }
    return this.value !== before;
  }

  private async readNow(): Promise<void> {
    this.value = await this.read();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
