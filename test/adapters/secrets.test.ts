import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSecret } from '#shared/adapters/secrets.ts';
import { InvalidInputError } from '#shared/domain/errors.ts';
import './helpers.ts';

// A loopback stand-in for Secrets Manager's GetSecretValue, reached through the SDK's
// service-specific endpoint variable, so Powertools Parameters runs unchanged.

const SECRETS: Record<string, string> = {
  'arn:aws:secretsmanager:eu-west-1:1:secret:stripe-key': '  sk_test_from_secrets_manager\n',
  'arn:aws:secretsmanager:eu-west-1:1:secret:empty': '   ',
};
const requested: string[] = [];

function handle(req: IncomingMessage, res: ServerResponse) {
  let raw = '';
  req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  req.on('end', () => {
    const { SecretId } = JSON.parse(raw) as { SecretId: string };
    requested.push(SecretId);
    const value = SECRETS[SecretId];
    res.writeHead(value === undefined ? 400 : 200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(
      JSON.stringify(
        value === undefined
          ? { __type: 'ResourceNotFoundException', message: 'Secrets Manager can’t find the specified secret.' }
          : { ARN: SecretId, Name: SecretId.split(':').pop(), SecretString: value },
      ),
    );
  });
}

let server: Server;

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
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
    const before = requested.length;

    await resolveSecret({ kind: 'secretsManager', arn });

    expect(requested.length).toBe(before);
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
