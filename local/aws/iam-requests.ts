// What AWS authorizes for one API request: the IAM action, the resource ARN (a table or one of its
// indexes, a state machine or an execution, a secret, an SES identity and configuration set, an event
// bus) and the
// condition keys the service supplies (ses:FromAddress). Read from the request as it travels, in the
// service's own protocol, so every SDK client a function builds is checked the same way.
import type { IamRequest } from './iam.ts';

export interface AwsRequest {
  /** The signing name from the SigV4 credential scope: dynamodb, ses, states, secretsmanager, events. */
  service: string;
  method: string;
  path: string;
  /** `X-Amz-Target` of the JSON protocols, e.g. `DynamoDB_20120810.GetItem`. */
  target?: string;
  body: unknown;
}

export interface ResourceNames {
  region: string;
  account: string;
  /** The full ARN of a secret given by name or ARN, as Secrets Manager resolves it before IAM checks it. */
  secretArn(secretId: string): string;
}

/** Thrown for a request the local check does not understand: it fails closed, and says so. */
export class UnknownRequestError extends Error {
  override readonly name = 'UnknownRequestError';
}

export function iamRequestsOf(request: AwsRequest, names: ResourceNames): IamRequest[] {
  switch (request.service) {
    case 'dynamodb':
      return dynamodb(request, names);
    case 'states':
      return stepFunctions(request);
    case 'secretsmanager':
      return secretsManager(request, names);
    case 'ses':
      return ses(request, names);
    case 'events':
      return eventBridge(request, names);
    case 'sqs':
      return sqs(request, names);
    default:
      throw new UnknownRequestError(`the local IAM check does not know the service "${request.service}"`);
  }
}

function operation(request: AwsRequest, prefix: string): string {
  const target = request.target ?? '';
  if (!target.startsWith(`${prefix}.`)) throw new UnknownRequestError(`not a ${prefix} request: X-Amz-Target "${target}"`);
  return target.slice(prefix.length + 1);
}

type Json = Record<string, unknown>;

function dynamodb(request: AwsRequest, names: ResourceNames): IamRequest[] {
  const op = operation(request, 'DynamoDB_20120810');
  const body = (request.body ?? {}) as Json;
  const table = (name: unknown, index?: unknown) => {
    const base = String(name).startsWith('arn:') ? String(name) : `arn:aws:dynamodb:${names.region}:${names.account}:table/${String(name)}`;
    return index ? `${base}/index/${String(index)}` : base;
  };
  switch (op) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((body.RequestItems ?? {}) as Json).map((name) => ({ action: `dynamodb:${op}`, resource: table(name) }));
    case 'TransactWriteItems':
      // IAM checks each item's own action (PutItem, UpdateItem, DeleteItem, ConditionCheckItem).
      return ((body.TransactItems ?? []) as Json[]).map((item) => {
        const [kind, detail] = Object.entries(item)[0] as [string, Json];
        const action = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' }[kind];
        if (!action) throw new UnknownRequestError(`TransactWriteItems item "${kind}"`);
        return { action: `dynamodb:${action}`, resource: table(detail.TableName) };
      });
    case 'TransactGetItems':
      return ((body.TransactItems ?? []) as Json[]).map((item) => ({ action: 'dynamodb:GetItem', resource: table((item.Get as Json).TableName) }));
    case 'Query':
    case 'Scan':
      return [{ action: `dynamodb:${op}`, resource: table(body.TableName, body.IndexName) }];
    default:
      if (typeof body.TableName !== 'string') throw new UnknownRequestError(`DynamoDB ${op} names no table`);
      return [{ action: `dynamodb:${op}`, resource: table(body.TableName) }];
  }
}

function stepFunctions(request: AwsRequest): IamRequest[] {
  const op = operation(request, 'AWSStepFunctions');
  const body = (request.body ?? {}) as Json;
  const arn = body.executionArn ?? body.stateMachineArn;
  if (typeof arn !== 'string') throw new UnknownRequestError(`Step Functions ${op} names no state machine or execution`);
  return [{ action: `states:${op}`, resource: arn }];
}

function secretsManager(request: AwsRequest, names: ResourceNames): IamRequest[] {
  const op = operation(request, 'secretsmanager');
  const body = (request.body ?? {}) as Json;
  if (typeof body.SecretId !== 'string') throw new UnknownRequestError(`Secrets Manager ${op} names no secret`);
  return [{ action: `secretsmanager:${op}`, resource: names.secretArn(body.SecretId) }];
}

/**
 * EventBridge's PutEvents is authorized on each entry's bus: the one it names (by name or ARN), or the
 * account's `default` bus when it names none.
 */
function eventBridge(request: AwsRequest, names: ResourceNames): IamRequest[] {
  const op = operation(request, 'AWSEvents');
  if (op !== 'PutEvents') throw new UnknownRequestError(`the local IAM check does not know EventBridge ${op}`);
  const entries = ((request.body ?? {}) as Json).Entries;
  if (!Array.isArray(entries) || entries.length === 0) throw new UnknownRequestError('EventBridge PutEvents has no entries');
  const buses = new Set(
    (entries as Json[]).map((entry) => {
      const bus = typeof entry?.EventBusName === 'string' && entry.EventBusName !== '' ? entry.EventBusName : 'default';
      return bus.startsWith('arn:') ? bus : `arn:aws:events:${names.region}:${names.account}:event-bus/${bus}`;
    }),
  );
  return [...buses].map((resource) => ({ action: 'events:PutEvents', resource }));
}

/**
 * SQS (AWS JSON 1.0) is authorized on the queue its QueueUrl names:
 * `https://sqs.<region>.amazonaws.com/<account>/<name>` is `arn:aws:sqs:<region>:<account>:<name>`.
 */
function sqs(request: AwsRequest, names: ResourceNames): IamRequest[] {
  const op = operation(request, 'AmazonSQS');
  const url = ((request.body ?? {}) as Json).QueueUrl;
  const parts = typeof url === 'string' ? /^https?:\/\/[^/]+\/(\d{12})\/([^/?#]+)$/.exec(url) : null;
  if (!parts) throw new UnknownRequestError(`SQS ${op} names no queue URL`);
  return [{ action: `sqs:${op}`, resource: `arn:aws:sqs:${names.region}:${parts[1]}:${parts[2]}` }];
}

/**
 * SES v2's SendEmail is authorized on the sending identity (the From address) and, when one is used,
 * the configuration set, with the From address as the `ses:FromAddress` condition key.
 */
function ses(request: AwsRequest, names: ResourceNames): IamRequest[] {
  const arn = (resource: string) => `arn:aws:ses:${names.region}:${names.account}:${resource}`;
  if (request.method === 'POST' && request.path.replace(/\/$/, '') === '/v2/email/outbound-emails') {
    const body = (request.body ?? {}) as Json;
    const from = String(body.FromEmailAddress ?? '');
    const address = /<([^<>]+)>\s*$/.exec(from)?.[1]?.trim() ?? from.trim();
    const displayName = /^(.*?)\s*<[^<>]+>\s*$/.exec(from)?.[1]?.replace(/^"|"$/g, '');
    const destination = (body.Destination ?? {}) as { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
    const recipients = [...(destination.ToAddresses ?? []), ...(destination.CcAddresses ?? []), ...(destination.BccAddresses ?? [])];
    const context: Record<string, string | string[]> = { 'ses:FromAddress': address, 'ses:ApiVersion': '2' };
    if (displayName) context['ses:FromDisplayName'] = displayName;
    if (recipients.length) context['ses:Recipients'] = recipients;
    const requests: IamRequest[] = [{ action: 'ses:SendEmail', resource: arn(`identity/${address}`), context }];
    if (typeof body.ConfigurationSetName === 'string') {
      requests.push({ action: 'ses:SendEmail', resource: arn(`configuration-set/${body.ConfigurationSetName}`), context });
    }
    return requests;
  }
  throw new UnknownRequestError(`the local IAM check does not know SES v2 ${request.method} ${request.path}`);
}

/** AWS's AccessDenied answer in the service's protocol, so the SDK raises `AccessDeniedException`. */
export function accessDenied(service: string, message: string): { status: number; headers: Record<string, string>; body: string } {
  if (service === 'ses') {
    return { status: 403, headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' }, body: JSON.stringify({ message }) };
  }
  const contentType = service === 'secretsmanager' || service === 'events' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0';
  return {
    status: 400,
    headers: { 'content-type': contentType, 'x-amzn-errortype': 'AccessDeniedException' },
    body: JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: message, message }),
  };
}
