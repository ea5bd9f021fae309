// Secrets Manager on loopback (its JSON 1.1 protocol): the functions read the Stripe key, the webhook
// signing secret and the link signing key by ARN, as in AWS, through Powertools Parameters. The
// values never enter a function's environment, locally either.
import { randomUUID } from 'node:crypto';
import { startAwsJsonService, type LocalService } from '../http-service.ts';

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

  const answer = (status: number, body: unknown) => ({ status, body });
  // The secrets are for this machine's own processes, never a web page that rebinds its name here.
  const service = await startAwsJsonService({
    host: options.host,
    contentType: 'application/x-amz-json-1.1',
    refused: { __type: 'AccessDeniedException', Message: 'requests must be addressed to the local Secrets Manager itself' },
    notJson: { __type: 'InvalidRequestException', Message: 'the request body is not JSON' },
    handle: (target, body: { SecretId?: unknown; SecretString?: unknown }) => {
      const secret = find(String(body.SecretId ?? ''));
      if (!secret) return answer(400, { __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." });
      switch (target) {
        case 'secretsmanager.GetSecretValue':
          return answer(200, {
            ARN: secret.arn,
            Name: secret.name,
            VersionId: secret.versionId,
            SecretString: secret.value,
            VersionStages: ['AWSCURRENT'],
            CreatedDate: secret.created,
          });
        case 'secretsmanager.DescribeSecret':
          return answer(200, { ARN: secret.arn, Name: secret.name, VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] } });
        case 'secretsmanager.PutSecretValue':
          if (typeof body.SecretString !== 'string') return answer(400, { __type: 'InvalidParameterException', Message: 'SecretString is required' });
          add(secret.arn, body.SecretString);
          return answer(200, { ARN: secret.arn, Name: secret.name, VersionId: secrets.get(secret.arn)!.versionId, VersionStages: ['AWSCURRENT'] });
        default:
          return answer(400, { __type: 'UnknownOperationException', Message: `the local Secrets Manager does not answer ${target || 'a request without X-Amz-Target'}` });
      }
    },
  });
  return {
    ...service,
    arnOf: (secretId) => find(secretId)?.arn ?? secretId,
    valueOf: (arn) => secrets.get(arn)?.value,
    put: (arn, value) => add(arn, value),
  };
}
