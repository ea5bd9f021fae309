// The rule that flags the case of a failed execution, as deployed: what it matches, where failures
// go, what flag-case may do, and the operator's grant to redrive. Synthesized without bundling.
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { DunningWorkflow } from '#infra/index.ts';
import { ENV } from '#shared/config.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import { actionsOf, functionLogicalId, roleOfFunction, statementsOfRole, synthDunningStack } from './synth.ts';

let template: Template;
let fnId: string;
let ruleId: string;
let queueId: string;
let machineId: string;

const only = (type: string, prefix: string): string => {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1 || !ids[0]) throw new Error(`expected one ${type} ${prefix}…, found ${ids.length}`);
  return ids[0];
};
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

beforeAll(() => {
  template = synthDunningStack().template;
  fnId = functionLogicalId(template, 'flag-case');
  ruleId = only('AWS::Events::Rule', 'DunningFailedExecutions');
  queueId = only('AWS::SQS::Queue', 'DunningFailedExecutions');
  machineId = only('AWS::StepFunctions::StateMachine', 'DunningWorkflow');
});

describe('FailedExecutionFlagger', () => {
  it("sends this state machine's FAILED and TIMED_OUT status changes (never ABORTED) to flag-case", () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [{ Ref: machineId }], status: ['FAILED', 'TIMED_OUT'] },
      },
      Targets: [Match.objectLike({ Arn: arnOf(fnId) })],
    });
    expect(template.toJSON().Resources[ruleId].Properties).not.toHaveProperty('EventBusName');
  });

  it('retries a failed hand-over for 24 hours, then dead-letters it; an invocation that threw every attempt goes to the same queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ Arn: arnOf(fnId), RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86_400 }, DeadLetterConfig: { Arn: arnOf(queueId) } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: arnOf(queueId) } },
    });
  });

  it('alarms on the first dead letter and on errors of flag-case', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
    });
  });

  it('lets flag-case describe executions of this state machine and read their history, and start, stop or redrive none', () => {
    const statements = statementsOfRole(template, roleOfFunction(template, fnId));
    const states = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('states:')));

    expect(actionsOf(states)).toEqual(['states:DescribeExecution', 'states:GetExecutionHistory']);
    expect(JSON.stringify(states.map((s) => s.Resource))).toContain(':execution:');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.stateMachineArn]: { Ref: machineId }, [ENV.tableName]: Match.anyValue() }) },
    });
    expect(actionsOf(statements).filter((a) => a.startsWith('ses:') || a.startsWith('secretsmanager:'))).toEqual([]);
  });
});

describe('DunningWorkflow.grantOperator', () => {
  it("grants an operator's role what the CLI needs, redriving executions included", () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Billing');
    const workflow = new DunningWorkflow(stack, 'Dunning', { policy: loadPolicyFile(), email: { sender: 'billing@acme.com' } });
    const operator = new Role(stack, 'Operator', { assumedBy: new ServicePrincipal('ec2.amazonaws.com') });

    workflow.grantOperator(operator);

    const t = Template.fromStack(stack);
    const roleId = Object.keys(t.findResources('AWS::IAM::Role')).find((id) => id.startsWith('Operator'))!;
    const actions = actionsOf(statementsOfRole(t, roleId));
    expect(actions).toEqual(expect.arrayContaining([
      'states:RedriveExecution', 'states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution',
      'cloudformation:DescribeStacks', 'secretsmanager:GetSecretValue', 'ses:SendEmail', 'dynamodb:UpdateItem',
    ]));
    expect(actions).not.toContain('states:StartExecution');
  });
});
