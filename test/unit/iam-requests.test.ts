// What AWS authorizes for each API request the functions make, read from the request as it travels:
// the action, the exact resource (a table or its index, a state machine or one execution, a secret,
// an SES identity and configuration set) and the condition keys the service supplies.
import { describe, expect, it } from 'vitest';
import { accessDenied, iamRequestsOf, UnknownRequestError, type ResourceNames } from '#local/aws/iam-requests.ts';

const names: ResourceNames = {
  region: 'us-east-1',
  account: '000000000000',
  secretArn: (id) => (id.startsWith('arn:') ? id : `arn:aws:secretsmanager:us-east-1:000000000000:secret:${id}-AbCdEf`),
};
const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/dunning';
const dynamo = (op: string, body: unknown) => iamRequestsOf({ service: 'dynamodb', method: 'POST', path: '/', target: `DynamoDB_20120810.${op}`, body }, names);

describe('iamRequestsOf', () => {
  it('checks a DynamoDB item call on the table, and a query of an index on that index', () => {
    expect(dynamo('DeleteItem', { TableName: 'dunning', Key: {} })).toEqual([{ action: 'dynamodb:DeleteItem', resource: TABLE }]);
    expect(dynamo('Query', { TableName: 'dunning', IndexName: 'openCases' })).toEqual([{ action: 'dynamodb:Query', resource: `${TABLE}/index/openCases` }]);
  });

  it('checks each table of a batch, and each item of a transaction by its own action', () => {
    expect(dynamo('BatchWriteItem', { RequestItems: { dunning: [], other: [] } }).map((r) => r.resource)).toEqual([
      TABLE,
      'arn:aws:dynamodb:us-east-1:000000000000:table/other',
    ]);
    expect(dynamo('TransactWriteItems', { TransactItems: [{ Put: { TableName: 'dunning' } }, { ConditionCheck: { TableName: 'dunning' } }] })).toEqual([
      { action: 'dynamodb:PutItem', resource: TABLE },
      { action: 'dynamodb:ConditionCheckItem', resource: TABLE },
    ]);
  });

  it('checks Step Functions calls on the state machine or on the one execution they name', () => {
    const sfn = (op: string, body: unknown) => iamRequestsOf({ service: 'states', method: 'POST', path: '/', target: `AWSStepFunctions.${op}`, body }, names);
    expect(sfn('StartExecution', { stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:m' })).toEqual([
      { action: 'states:StartExecution', resource: 'arn:aws:states:us-east-1:000000000000:stateMachine:m' },
    ]);
    expect(sfn('StopExecution', { executionArn: 'arn:aws:states:us-east-1:000000000000:execution:m:in_1' })[0]?.resource).toBe(
      'arn:aws:states:us-east-1:000000000000:execution:m:in_1',
    );
  });

  it('checks a secret by its full ARN, however the caller named it', () => {
    const request = iamRequestsOf({ service: 'secretsmanager', method: 'POST', path: '/', target: 'secretsmanager.GetSecretValue', body: { SecretId: 'StripeKey' } }, names);
    expect(request).toEqual([{ action: 'secretsmanager:GetSecretValue', resource: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:StripeKey-AbCdEf' }]);
  });

  it('checks an SES v2 send on the sending identity and the configuration set, with the From address as ses:FromAddress', () => {
    const requests = iamRequestsOf(
      {
        service: 'ses',
        method: 'POST',
        path: '/v2/email/outbound-emails',
        body: { FromEmailAddress: 'Acme Billing <billing@acme.com>', Destination: { ToAddresses: ['jane@example.com'] }, ConfigurationSetName: 'dunning' },
      },
      names,
    );
    const context = { 'ses:FromAddress': 'billing@acme.com', 'ses:FromDisplayName': 'Acme Billing', 'ses:Recipients': ['jane@example.com'], 'ses:ApiVersion': '2' };
    expect(requests).toEqual([
      { action: 'ses:SendEmail', resource: 'arn:aws:ses:us-east-1:000000000000:identity/billing@acme.com', context },
      { action: 'ses:SendEmail', resource: 'arn:aws:ses:us-east-1:000000000000:configuration-set/dunning', context },
    ]);
  });

  it('checks an EventBridge PutEvents on the bus of each entry, by name or ARN, and on the default bus for an entry that names none', () => {
    const putEvents = (entries: unknown[]) => iamRequestsOf({ service: 'events', method: 'POST', path: '/', target: 'AWSEvents.PutEvents', body: { Entries: entries } }, names);
    const BUS = 'arn:aws:events:us-east-1:000000000000:event-bus/dunning-events';
    expect(putEvents([{ EventBusName: 'dunning-events' }])).toEqual([{ action: 'events:PutEvents', resource: BUS }]);
    expect(putEvents([{ EventBusName: BUS }, { EventBusName: 'dunning-events' }, {}])).toEqual([
      { action: 'events:PutEvents', resource: BUS },
      { action: 'events:PutEvents', resource: 'arn:aws:events:us-east-1:000000000000:event-bus/default' },
    ]);
    expect(() => iamRequestsOf({ service: 'events', method: 'POST', path: '/', target: 'AWSEvents.PutRule', body: {} }, names)).toThrow(/EventBridge PutRule/);
    expect(() => putEvents([])).toThrow(UnknownRequestError);
  });

  it('checks an SQS call on the queue its QueueUrl names, and fails closed on one that names none', () => {
    const sqs = (body: unknown) => iamRequestsOf({ service: 'sqs', method: 'POST', path: '/', target: 'AmazonSQS.SendMessage', body }, names);

    expect(sqs({ QueueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/Events', MessageBody: '{}' })).toEqual([
      { action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:Events' },
    ]);
    expect(() => sqs({ MessageBody: '{}' })).toThrow(UnknownRequestError);
  });

  it('refuses to guess at a request it cannot read: the check fails closed', () => {
    expect(() => iamRequestsOf({ service: 'ses', method: 'DELETE', path: '/v2/email/identities/x', body: {} }, names)).toThrow(UnknownRequestError);
    expect(() => iamRequestsOf({ service: 's3', method: 'GET', path: '/', body: {} }, names)).toThrow(/does not know the service "s3"/);
    expect(() => dynamo('GetItem', {})).toThrow(/names no table/);
  });
});

describe('accessDenied', () => {
  it('answers in the protocol of each service, so the SDK raises AccessDeniedException', () => {
    expect(accessDenied('dynamodb', 'no')).toMatchObject({ status: 400, headers: { 'x-amzn-errortype': 'AccessDeniedException' } });
    expect(JSON.parse(accessDenied('dynamodb', 'no').body)).toMatchObject({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: 'no' });
    expect(accessDenied('events', 'no')).toMatchObject({ status: 400, headers: { 'content-type': 'application/x-amz-json-1.1' } });
    expect(accessDenied('ses', 'no')).toMatchObject({ status: 403, headers: { 'x-amzn-errortype': 'AccessDeniedException' }, body: '{"message":"no"}' });
  });
});
