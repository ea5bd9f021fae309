import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSecret } from '#shared/adapters/secrets.ts';
import { InvalidInputError } from '#shared/domain/errors.ts';
import { startFakeSecretsManager, type FakeSecretsManager } from './helpers.ts';

// Secrets Manager is a loopback stand-in (helpers.ts), so Powertools Parameters runs unchanged.

let secretsManager: FakeSecretsManager;

beforeAll(async () => {
  secretsManager = await startFakeSecretsManager({
    'arn:aws:secretsmanager:eu-west-1:1:secret:stripe-key': '  sk_test_from_secrets_manager\n',
    'arn:aws:secretsmanager:eu-west-1:1:secret:empty': '   ',
  });
});

afterAll(async () => {
  await secretsManager?.close();
});

describe('resolveSecret', () => {
  it('returns a plain value trimmed', async () => {
    expect(await resolveSecret({ kind: 'plain', value: ' whsec_local \n' })).toBe('whsec_local');
  });

  it('reads a Secrets Manager secret by ARN, trimmed', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:stripe-key';

    expect(await resolveSecret({ kind: 'secretsManager', arn })).toBe('sk_test_from_secrets_manager');
  });

  it('serves a secret from the cache on later calls', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:stripe-key';
    await resolveSecret({ kind: 'secretsManager', arn });
    const before = secretsManager.requested.length;

    await resolveSecret({ kind: 'secretsManager', arn });

    expect(secretsManager.requested.length).toBe(before);
  });

  it('refuses a secret with no value', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:empty';

    await expect(resolveSecret({ kind: 'secretsManager', arn })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('fails when the secret does not exist', async () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:1:secret:missing';

    await expect(resolveSecret({ kind: 'secretsManager', arn })).rejects.toThrow();
  });
});
