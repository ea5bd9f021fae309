// The open-cases gauge in AWS: a schedule invokes count-open-cases, which may query the sparse
// open-cases index and nothing else, and both the table and the local runtime's table have that index.
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { OPEN_CASES } from '#shared/adapters/table.ts';
import { functionLogicalId, synthDunningStack, type Synthesized } from './synth.ts';

let synth: Synthesized;

beforeAll(() => {
  synth = synthDunningStack({});
});

describe('OpenCasesGauge', () => {
  it('invokes count-open-cases every 5 minutes, without retrying a missed count', () => {
    const fn = functionLogicalId(synth.template, 'count-open-cases');
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
  });

  it('lets the function query the open-cases index only: not the table, not the other indexes', () => {
    const fn = functionLogicalId(synth.template, 'count-open-cases');
    const role = (synth.template.findResources('AWS::Lambda::Function')[fn]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const policies = Object.values(synth.template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === role),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
    const dynamo = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));

    expect(dynamo).toHaveLength(1);
    expect(dynamo[0]!.Action).toBe('dynamodb:Query');
    expect(JSON.stringify(dynamo[0]!.Resource)).toContain(`/index/${OPEN_CASES.indexName}`);
    expect(JSON.stringify(dynamo[0]!.Resource)).not.toContain('*');
  });

  it('adds the sparse open-cases index to the table, keyed by openCase and createdAt, projecting whole cases', () => {
    synth.template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: Match.arrayWith([
        {
          IndexName: OPEN_CASES.indexName,
          KeySchema: [
            { AttributeName: OPEN_CASES.partitionKey, KeyType: 'HASH' },
            { AttributeName: OPEN_CASES.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ]),
    });
  });
});
