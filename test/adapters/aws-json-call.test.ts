// The webhook's signed AWS calls (no SDK client): the signature is checked by an independent SigV4
// implementation (aws4), and the failures an AWS service answers with take the SDK's paths:
// throttling and 5xx tried again, a client error at once, no answer bounded by a timeout.
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import aws4 from 'aws4';
import { afterEach, describe, expect, it } from 'vitest';
import { awsEndpointOf, awsJsonCall, AwsServiceError } from '#shared/adapters/aws-json-call.ts';
import { readSecretString } from '#shared/adapters/secret-string.ts';
import { SqsEventInbox } from '#shared/adapters/sqs-inbox.ts';
import { InvalidInputError } from '#shared/domain/errors.ts';

interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Answer = { status: number; body: unknown } | 'hang';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A loopback service answering `answers` in turn (the last one from then on), keeping what it was sent. */
async function service(...answers: Answer[]): Promise<{ endpoint: string; requests: Captured[] }> {
  const requests: Captured[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const answer = answers[Math.min(requests.length - 1, answers.length - 1)]!;
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret/EXAMPLE+key', AWS_SESSION_TOKEN: 'token-EXAMPLE' };
const envFor = (endpoint: string, extra: Record<string, string> = {}) => ({ AWS_REGION: 'eu-west-1', ...CREDENTIALS, AWS_ENDPOINT_URL_SQS: endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint, ...extra });
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dunning-events.fifo';

describe('a signed AWS JSON call', () => {
  it('sends SQS SendMessage in AWS JSON 1.0 with a SigV4 signature an independent signer computes the same', async () => {
    const sqs = await service({ status: 200, body: { MessageId: 'm-1', SequenceNumber: '1' } });

    const output = await awsJsonCall('sqs', 'SendMessage', { QueueUrl: QUEUE_URL, MessageBody: '{"id":"evt_1"}' }, { env: envFor(sqs.endpoint) });

    expect(output).toEqual({ MessageId: 'm-1', SequenceNumber: '1' });
    const [sent] = sqs.requests;
    expect(sent).toMatchObject({ method: 'POST', url: '/', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage', 'x-amz-security-token': 'token-EXAMPLE' } });
    expect(JSON.parse(sent!.body)).toEqual({ QueueUrl: QUEUE_URL, MessageBody: '{"id":"evt_1"}' });
    const independent = aws4.sign(
      {
        host: sent!.headers.host,
        method: 'POST',
        path: '/',
        service: 'sqs',
        region: 'eu-west-1',
        // The headers our request signed, as sent; aws4 adds none of its own (it would sign Content-Length).
        headers: {
          Host: sent!.headers.host!,
          'Content-Type': 'application/x-amz-json-1.0',
          'X-Amz-Target': 'AmazonSQS.SendMessage',
          'X-Amz-Date': sent!.headers['x-amz-date'] as string,
          'X-Amz-Content-Sha256': sent!.headers['x-amz-content-sha256'] as string,
          'X-Amz-Security-Token': 'token-EXAMPLE',
        },
        doNotModifyHeaders: true,
        body: sent!.body,
      },
      { accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY, sessionToken: CREDENTIALS.AWS_SESSION_TOKEN },
    );
    expect(sent!.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(sent!.body).digest('hex'));
    expect(sent!.headers.authorization).toBe(independent.headers!.Authorization);
    expect(sent!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE\/\d{8}\/eu-west-1\/sqs\/aws4_request, /);
  });

  it('tries a throttled request again and answers the next reply', async () => {
    const sqs = await service({ status: 400, body: { __type: 'com.amazonaws.sqs#ThrottlingException', message: 'Rate exceeded' } }, { status: 200, body: { MessageId: 'm-2' } });

    await expect(awsJsonCall('sqs', 'SendMessage', { QueueUrl: QUEUE_URL }, { env: envFor(sqs.endpoint) })).resolves.toEqual({ MessageId: 'm-2' });
    expect(sqs.requests).toHaveLength(2);
  });

  it('gives up on a 5xx after its tries, naming the service, operation and error', async () => {
    const sqs = await service({ status: 500, body: { __type: 'com.amazonaws.sqs#InternalError', message: 'We encountered an internal error.' } });

    const failure = awsJsonCall('sqs', 'SendMessage', { QueueUrl: QUEUE_URL }, { env: envFor(sqs.endpoint), maxAttempts: 3 });

    await expect(failure).rejects.toBeInstanceOf(AwsServiceError);
    await expect(failure).rejects.toMatchObject({ code: 'InternalError', statusCode: 500, message: 'sqs SendMessage: InternalError: We encountered an internal error.' });
    expect(sqs.requests).toHaveLength(3);
  });

  it('does not try a client error again', async () => {
    const sqs = await service({ status: 400, body: { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' } });

    await expect(awsJsonCall('sqs', 'SendMessage', { QueueUrl: QUEUE_URL }, { env: envFor(sqs.endpoint) })).rejects.toMatchObject({ name: 'AwsServiceError', code: 'QueueDoesNotExist', statusCode: 400 });
    expect(sqs.requests).toHaveLength(1);
  });

  it('stops waiting for a service that never answers', async () => {
    const sqs = await service('hang');

    await expect(awsJsonCall('sqs', 'SendMessage', { QueueUrl: QUEUE_URL }, { env: envFor(sqs.endpoint), timeoutMs: 200, maxAttempts: 2 })).rejects.toMatchObject({ code: 'TimeoutError', message: 'sqs SendMessage: no answer in time' });
    expect(sqs.requests).toHaveLength(2);
  });

  it('says what is missing without credentials or a region, before sending anything', async () => {
    await expect(awsJsonCall('sqs', 'SendMessage', {}, { env: { AWS_REGION: 'eu-west-1' } })).rejects.toThrow(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set/);
    await expect(awsJsonCall('sqs', 'SendMessage', {}, { env: { ...CREDENTIALS } })).rejects.toThrow(/AWS_REGION is not set/);
  });

  it("goes to the service's regional endpoint unless an endpoint variable names another", () => {
    expect(awsEndpointOf('sqs', { AWS_REGION: 'eu-west-1' }).href).toBe('https://sqs.eu-west-1.amazonaws.com/');
    expect(awsEndpointOf('secretsManager', { AWS_REGION: 'us-east-2' }).href).toBe('https://secretsmanager.us-east-2.amazonaws.com/');
    expect(awsEndpointOf('sqs', { AWS_REGION: 'cn-north-1' }).href).toBe('https://sqs.cn-north-1.amazonaws.com.cn/');
    expect(awsEndpointOf('sqs', { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }).href).toBe('http://127.0.0.1:4566/');
    expect(awsEndpointOf('sqs', { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_SQS: 'http://b' }).href).toBe('http://b/');
  });
});

describe('the event inbox on SQS FIFO', () => {
  it('sends one message per event, grouped by customer and deduplicated on the event id', async () => {
    const sqs = await service({ status: 200, body: { MessageId: 'm-3' } });

    await new SqsEventInbox(QUEUE_URL, { env: envFor(sqs.endpoint) }).store({ id: 'evt_1', group: 'cus_1', body: '{"id":"evt_1"}' });

    expect(JSON.parse(sqs.requests[0]!.body)).toEqual({ QueueUrl: QUEUE_URL, MessageBody: '{"id":"evt_1"}', MessageGroupId: 'cus_1', MessageDeduplicationId: 'evt_1' });
  });
});

describe('the webhook signing secret from Secrets Manager', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dunning-webhook';

  it('reads the string in AWS JSON 1.1, trimmed', async () => {
    const sm = await service({ status: 200, body: { ARN, SecretString: ' whsec_abc\n' } });

    expect(await readSecretString({ kind: 'secretsManager', arn: ARN }, { env: envFor(sm.endpoint) })).toBe('whsec_abc');
    expect(sm.requests[0]!.headers).toMatchObject({ 'x-amz-target': 'secretsmanager.GetSecretValue', 'content-type': 'application/x-amz-json-1.1' });
    expect(JSON.parse(sm.requests[0]!.body)).toEqual({ SecretId: ARN });
  });

  it('reads a binary secret, which the JSON protocol carries in base64', async () => {
    const sm = await service({ status: 200, body: { ARN, SecretBinary: Buffer.from('whsec_bin').toString('base64') } });

    expect(await readSecretString({ kind: 'secretsManager', arn: ARN }, { env: envFor(sm.endpoint) })).toBe('whsec_bin');
  });

  it('refuses an empty secret, and names a missing one', async () => {
    const empty = await service({ status: 200, body: { ARN, SecretString: '  ' } });
    await expect(readSecretString({ kind: 'secretsManager', arn: ARN }, { env: envFor(empty.endpoint) })).rejects.toBeInstanceOf(InvalidInputError);
    await new Promise((resolve) => server!.close(resolve));

    const missing = await service({ status: 400, body: { __type: 'ResourceNotFoundException', message: 'Secrets Manager can’t find the specified secret.' } });
    await expect(readSecretString({ kind: 'secretsManager', arn: ARN }, { env: envFor(missing.endpoint) })).rejects.toMatchObject({ code: 'ResourceNotFoundException' });
  });

  it('takes a plain value as it is given, without a request', async () => {
    expect(await readSecretString({ kind: 'plain', value: ' whsec_local ' })).toBe('whsec_local');
  });
});
