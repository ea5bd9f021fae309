// The webhook signing secret as the CLI reads and writes it, in Secrets Manager by ARN (the local
// runtime's stand-in with --local): `dunning connect` stores a new endpoint's secret with it. The
// operator's own credentials need secretsmanager:GetSecretValue and PutSecretValue on that secret.
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SigningSecretStore } from './connect.ts';

export function secretsManagerStore(arn: string, client: SecretsManagerClient = new SecretsManagerClient({ maxAttempts: 3 })): SigningSecretStore {
  return {
    name: arn,
    async read() {
      try {
        const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
        return out.SecretString?.trim();
      } catch (error) {
        // A secret with no value yet reads as none; anything else (denied, missing) is the operator's to hear.
        if ((error as { name?: string }).name === 'ResourceNotFoundException' && /value/i.test((error as Error).message)) return undefined;
        throw error;
      }
    },
    async write(value) {
      await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: value }));
    },
  };
}
