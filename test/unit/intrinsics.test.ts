// CloudFormation's intrinsics, evaluated against local stand-ins: what the template says a value is
// becomes the local runtime's value, and what it cannot stand in for fails naming it.
import { describe, expect, it } from 'vitest';
import { Intrinsics, UnresolvableError, type LocalResource, type Template } from '#local/aws/intrinsics.ts';

const template: Template = {
  Resources: {
    Table: { Type: 'AWS::DynamoDB::Table' },
    Machine: { Type: 'AWS::StepFunctions::StateMachine' },
    Bucket: { Type: 'AWS::S3::Bucket' },
  },
  Conditions: { InUsEast1: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] } },
};
const resources: Record<string, LocalResource> = {
  Table: { ref: 'dunning-local', attributes: { Arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/dunning-local' } },
  Machine: { ref: 'arn:aws:states:us-east-1:000000000000:stateMachine:dunning-local', attributes: { Name: 'dunning-local' } },
};
const local = new Intrinsics(template, (id) => resources[id], { region: 'us-east-1', account: '000000000000', stackName: 'Dunning' },
);

describe('Intrinsics', () => {
  it('resolves Ref and Fn::GetAtt to the local resource, and pseudo parameters to the local account', () => {
    expect(local.resolve({ Ref: 'Table' })).toBe('dunning-local');
    expect(local.resolve({ 'Fn::GetAtt': ['Table', 'Arn'] })).toBe('arn:aws:dynamodb:us-east-1:000000000000:table/dunning-local');
    expect(local.resolve({ 'Fn::GetAtt': 'Machine.Name' })).toBe('dunning-local');
    expect(local.resolve({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ses:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':identity/a.com']] })).toBe(
      'arn:aws:ses:us-east-1:000000000000:identity/a.com',
    );
  });

  it('resolves the Fn::Select/Fn::Split that CDK writes for an execution ARN', () => {
    const executions = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':states:us-east-1:000000000000:execution:', { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: 'Machine' }] }] }, ':*'],
      ],
    };
    expect(local.resolve(executions)).toBe('arn:aws:states:us-east-1:000000000000:execution:dunning-local:*');
  });

  it('resolves Fn::Sub, with its own variables and with resource attributes', () => {
    expect(local.resolve({ 'Fn::Sub': '${Table}/${Machine.Name}/${AWS::Region}' })).toBe('dunning-local/dunning-local/us-east-1');
    expect(local.resolve({ 'Fn::Sub': ['${X}-${Table.Arn}', { X: 'x' }] })).toBe('x-arn:aws:dynamodb:us-east-1:000000000000:table/dunning-local');
  });

  it('evaluates Fn::If on the template conditions and drops AWS::NoValue', () => {
    expect(local.resolve({ A: { 'Fn::If': ['InUsEast1', 'yes', 'no'] }, B: { Ref: 'AWS::NoValue' } })).toEqual({ A: 'yes' });
  });

  it('fails naming the resource the local runtime cannot stand in for', () => {
    expect(() => local.resolve({ Ref: 'Bucket' })).toThrow(UnresolvableError);
    expect(() => local.resolve({ Ref: 'Bucket' })).toThrow(/Bucket \(AWS::S3::Bucket\)/);
    expect(() => local.resolve({ 'Fn::GetAtt': ['Table', 'StreamArn'] })).toThrow(/Table\.StreamArn/);
    expect(() => local.resolve({ 'Fn::ImportValue': 'Elsewhere' })).toThrow(/Fn::ImportValue/);
  });
});
