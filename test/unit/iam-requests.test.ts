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
    expect(accessDenied('ses', 'no')).toMatchObject({ status: 403, headers: { 'x-amzn-errortype': 'AccessDeniedException' }, body: '{"message":"no"}' });
  });
});
