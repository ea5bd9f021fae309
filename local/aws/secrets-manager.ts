// Secrets Manager on loopback (its JSON 1.1 protocol): the functions read the Stripe key, the webhook
// signing secret and the link signing key by ARN, as in AWS, through Powertools Parameters. The
// values never enter a function's environment, locally either.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { addressedToSelf, listen, serviceOf, type LocalService } from '../http-service.ts';

export interface LocalSecretsManager extends LocalService {
  /** The full ARN of a secret named by its ARN, its name, or its ARN without the random suffix. */
  arnOf(secretId: string): string;
  /** Reads a secret's current value, as `GetSecretValue` would (for the runtime itself). */
  valueOf(arn: string): string | undefined;
  /** Puts a new value, as `put-secret-value` does: the functions pick it up when their cache expires. */
  put(arn: string, value: string): void;
}

interface StoredSecret {
  arn: string;
  name: string;
  value: string;
  versionId: string;
  created: number;
}

export async function startLocalSecretsManager(options: {
  host: string;
  /** Each secret's ARN and value. */
  secrets: Readonly<Record<string, string>>;
}): Promise<LocalSecretsManager> {
  const secrets = new Map<string, StoredSecret>();
  const add = (arn: string, value: string) => {
    // A secret's name is its ARN's last part without Secrets Manager's "-XXXXXX" suffix.
    const name = arn.split(':secret:')[1]!.replace(/-[A-Za-z0-9]{6}$/, '');
    secrets.set(arn, { arn, name, value, versionId: randomUUID(), created: Date.now() / 1000 });
  };
  for (const [arn, value] of Object.entries(options.secrets)) add(arn, value);

  const find = (secretId: string): StoredSecret | undefined => {
    for (const secret of secrets.values()) {
      if (secret.arn === secretId || secret.name === secretId || secret.arn.replace(/-[A-Za-z0-9]{6}$/, '') === secretId) return secret;
    }
    return undefined;
  };

  let endpoint = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
        res.end(JSON.stringify(body));
      };
      // The secrets are for this machine's own processes, never a web page that rebinds its name here.
      if (!addressedToSelf(req, endpoint)) return reply(403, { __type: 'AccessDeniedException', Message: 'requests must be addressed to the local Secrets Manager itself' });
      const target = String(req.headers['x-amz-target'] ?? '');
      let body: { SecretId?: string; SecretString?: string };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as typeof body;
      } catch {
        return reply(400, { __type: 'InvalidRequestException', Message: 'the request body is not JSON' });
      }
      const secret = find(String(body.SecretId ?? ''));
      if (!secret) return reply(400, { __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." });
      switch (target) {
        case 'secretsmanager.GetSecretValue':
          return reply(200, {
            ARN: secret.arn,
            Name: secret.name,
            VersionId: secret.versionId,
            SecretString: secret.value,
            VersionStages: ['AWSCURRENT'],
            CreatedDate: secret.created,
          });
        case 'secretsmanager.DescribeSecret':
          return reply(200, { ARN: secret.arn, Name: secret.name, VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] } });
        case 'secretsmanager.PutSecretValue':
          if (typeof body.SecretString !== 'string') return reply(400, { __type: 'InvalidParameterException', Message: 'SecretString is required' });
          add(secret.arn, body.SecretString);
          return reply(200, { ARN: secret.arn, Name: secret.name, VersionId: secrets.get(secret.arn)!.versionId, VersionStages: ['AWSCURRENT'] });
        default:
          return reply(400, { __type: 'UnknownOperationException', Message: `the local Secrets Manager does not answer ${target || req.method}` });
      }
    });
  });
  await listen(server, 0, options.host);
  const service = serviceOf(server);
  endpoint = service.endpoint;
  return {
    ...service,
    arnOf: (secretId) => find(secretId)?.arn ?? secretId,
    valueOf: (arn) => secrets.get(arn)?.value,
    put: (arn, value) => add(arn, value),
  };
}
