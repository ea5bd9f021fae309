// The EventBridge ingest as deployed with `ingest.eventBridge`: the rule on Stripe's partner bus,
// where failures go, what the function may do, and what cdk-nag thinks of it. Synthesized once
// with real bundling, so the new handler is known to build.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { DunningWorkflow, type DunningWorkflowProps } from '#infra/index.ts';
import { ENV } from '#shared/config.ts';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import { acknowledgedFindings, actionsOf, functionLogicalId, roleOfFunction, statementsOfRole, synthDunningStack, type PolicyStatementJson, type Synthesized } from './synth.ts';

const BUS = 'aws.partner/stripe.com/ed_test_123';
const FOURTEEN_DAYS = 14 * 86_400;

let synth: Synthesized;
let template: Template;
let fnId: string;
let queueId: string;
let ruleId: string;

beforeAll(() => {
  synth = synthDunningStack({ bundle: true, ingest: { eventBridge: { eventBusName: BUS } } });
  template = synth.template;
  fnId = functionLogicalId(template, 'handle-eventbridge');
  queueId = onlyLogicalId(template, 'AWS::SQS::Queue', 'DunningEventBridge');
  ruleId = onlyLogicalId(template, 'AWS::Events::Rule', 'DunningEventBridge');
  // Bundles every function with esbuild: over the default hook timeout on a shared, busy machine.
}, 240_000);

function onlyLogicalId(t: Template, type: string, prefix = ''): string {
  const ids = Object.keys(t.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1 || !ids[0]) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0];
}

function embed(props: Partial<DunningWorkflowProps>, extra?: (stack: Stack) => Partial<DunningWorkflowProps>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Billing');
  const workflow = new DunningWorkflow(stack, 'Dunning', {
    policy: loadPolicyFile(),
    email: { sender: 'billing@acme.com' },
    ...props,
    ...extra?.(stack),
  });
  return { workflow, template: Template.fromStack(stack) };
}

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const statements = (): PolicyStatementJson[] => statementsOfRole(template, roleOfFunction(template, fnId));

describe('EventBridgeIngest', () => {
  describe('the rule', () => {
    it('sends the handled Stripe event types from the partner bus to handle-eventbridge', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: BUS,
        State: 'ENABLED',
        EventPattern: {
          source: [{ prefix: 'aws.partner/stripe.com/' }],
          'detail-type': [...HANDLED_EVENT_TYPES],
        },
        Targets: [Match.objectLike({ Arn: arnOf(fnId) })],
      });
    });

    it('retries a failed hand-over to Lambda for up to 24 hours, then dead-letters the event', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        Targets: [
          Match.objectLike({
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86_400 },
            DeadLetterConfig: { Arn: arnOf(queueId) },
          }),
        ],
      });
    });

    it('is the only thing allowed to invoke handle-eventbridge', () => {
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
        (p) => JSON.stringify((p as { Properties: { FunctionName: unknown } }).Properties.FunctionName).includes(fnId),
      );

      expect(permissions).toEqual([
        expect.objectContaining({
          Properties: expect.objectContaining({
            Action: 'lambda:InvokeFunction',
            Principal: 'events.amazonaws.com',
            SourceArn: arnOf(ruleId),
          }),
        }),
      ]);
      template.resourcePropertiesCountIs('AWS::Lambda::Url', { TargetFunctionArn: arnOf(fnId) }, 0);
    });
  });

  describe('failures', () => {
    it('sends an invocation that threw on every attempt to the same dead-letter queue', () => {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: fnId },
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 6 * 3600,
        DestinationConfig: { OnFailure: { Destination: arnOf(queueId) } },
      });
    });

    it('keeps dead letters 14 days, encrypted, over TLS only, retained with the stack', () => {
      template.hasResource('AWS::SQS::Queue', {
        Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: FOURTEEN_DAYS },
        DeletionPolicy: 'Retain',
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Effect: 'Allow',
              Action: 'sqs:SendMessage',
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': arnOf(ruleId) } },
            }),
          ]),
        },
      });
    });

    it('alarms on the first dead letter', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    });

    it('alarms on errors of handle-eventbridge like on every other function', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
        Threshold: 1,
      });
    });

    it('sends the dead-letter alarm to the alarm topic when one is given', () => {
      const { template: t } = embed({ ingest: { eventBridge: { eventBusName: BUS } } }, (stack) => ({ alarmTopic: new Topic(stack, 'Oncall') }));

      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Oncall') }],
      });
      t.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: Match.stringLikeRegexp('^Oncall') }] });
    });

    it('deletes the dead-letter queue with the stack only under RemovalPolicy.DESTROY', () => {
      const { template: t } = embed({ ingest: { eventBridge: { eventBusName: BUS } }, removalPolicy: RemovalPolicy.DESTROY });

      t.hasResource('AWS::SQS::Queue', { DeletionPolicy: 'Delete' });
    });
  });

  describe('grants (least privilege)', () => {
    it('may start the state machine and stop or describe its executions, like the webhook', () => {
      expect(actionsOf(statements()).filter((a) => a.startsWith('states:'))).toEqual([
        'states:DescribeExecution',
        'states:StartExecution',
        'states:StopExecution',
      ]);
    });

    it('reads the Stripe API key and the link signing key (it sends notices), never the webhook signing secret', () => {
      const secretIds = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
      const apiKeyId = secretIds.find((id) => id.includes('ApiKey'));
      const linkKeyId = secretIds.find((id) => id.includes('SigningKey') && !id.includes('Webhook'));
      const reads = statements().filter((s) => actionsOf([s]).some((a) => a.startsWith('secretsmanager:')));

      expect(reads.map((s) => s.Resource)).toEqual(expect.arrayContaining([{ Ref: apiKeyId }, { Ref: linkKeyId }]));
      expect(reads).toHaveLength(2);
      const variables = template.toJSON().Resources[fnId].Properties.Environment.Variables as Record<string, unknown>;
      expect(variables[ENV.stripeApiKeySecretArn]).toEqual({ Ref: apiKeyId });
      expect(variables).not.toHaveProperty(ENV.stripeWebhookSecretArn);
      expect(variables).toHaveProperty(ENV.stateMachineArn);
      expect(variables).toHaveProperty(ENV.tableName);
      expect(variables).toHaveProperty(ENV.sender);
    });

    it('sends email only as the sender, and writes only to its dead-letter queue', () => {
      const send = statements().find((s) => [s.Action].flat().includes('ses:SendEmail'));
      expect(send?.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'billing@acme.com' } });
      expect([send?.Resource].flat()).not.toContain('*');

      const sqs = statements().filter((s) => actionsOf([s]).some((a) => a.startsWith('sqs:')));
      expect(sqs.map((s) => s.Resource)).toEqual([arnOf(queueId)]);
      expect(actionsOf(sqs)).toEqual(['sqs:SendMessage']);
    });

    it('has no wildcard action, and "*" resources only for X-Ray', () => {
      expect(actionsOf(statements()).filter((a) => a.includes('*'))).toEqual([]);
      const onStar = statements().filter((s) => [s.Resource].flat().includes('*'));
      for (const action of actionsOf(onStar)) expect(action).toMatch(/^xray:/);
    });
  });

  describe('the function', () => {
    it('bundles functions/handle-eventbridge with the policy file (every policy, segments, alsoNotify) in its code', () => {
      const code = template.toJSON().Resources[fnId].Properties.Code as { S3Key: string };
      const bundle = readFileSync(join(synth.assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs'), 'utf8');

      expect(bundle).toContain(`"productName":"${loadPolicyFile().brand.productName}"`);
      expect(bundle).toContain('{"policies":{"default":{');
      expect(bundle).toContain('aws.partner/stripe.com/');
    });
  });

  describe('under cdk-nag AwsSolutions', () => {
    it('reports no unacknowledged error or warning', () => {
      const report = new AwsSolutionsChecks(synth.app, { verbose: true }).validateScope(synth.app);
      const findings = report.violations.map(
        (v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );

      expect(findings).toEqual([]);
    });

    it('acknowledges, for the EventBridge ingest, only X-Ray, stopping executions, and the DLQ having no DLQ', () => {
      const acknowledged = acknowledgedFindings(synth.app, '/EventBridge/');

      expect(acknowledged.sort()).toEqual(
        [
          'Dunning/Dunning/EventBridge/HandleEventBridgeRole AwsSolutions-IAM5[Resource::*]',
          'Dunning/Dunning/EventBridge/HandleEventBridgeRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<name>:*]',
          'Dunning/Dunning/EventBridge/DeadLetterQueue AwsSolutions-SQS3',
        ].sort(),
      );
    });
  });

  describe('without ingest.eventBridge', () => {
    it('creates nothing EventBridge-related', () => {
      const { workflow, template: t } = embed({});

      // The only rule that listens for events is the failed-execution one; the other, the open-cases
      // gauge's schedule. Only the email events', failed executions' and the webhook events' queues and
      // async configs remain.
      const other = (id: string) => !id.startsWith('DunningEmailEvents') && !id.startsWith('DunningFailedExecutions') && !id.startsWith('DunningWebhookEvents');
      expect(Object.entries(t.findResources('AWS::Events::Rule')).filter(([id, rule]) => rule.Properties.EventPattern && other(id))).toEqual([]);
      expect(Object.keys(t.findResources('AWS::SQS::Queue')).filter(other)).toEqual([]);
      expect(Object.keys(t.findResources('AWS::Lambda::EventInvokeConfig')).filter(other)).toEqual([]);
      expect(() => functionLogicalId(t, 'handle-eventbridge')).toThrow(/found 0/);
      expect(workflow.eventBridgeFunction).toBeUndefined();
      expect(workflow.deadLetterQueue).toBeUndefined();
    });

    it('keeps the webhook when both ways in are on', () => {
      const { workflow, template: t } = embed({ ingest: { eventBridge: { eventBusName: BUS } } });

      expect(workflow.webhookUrl).toBeDefined();
      expect(workflow.eventBridgeFunction).toBeDefined();
      expect(functionLogicalId(t, 'handle-webhook')).toBeTruthy();
    });
  });

  it('fails synth naming the field when the bus is not a Stripe partner bus', () => {
    expect(() => embed({ ingest: { eventBridge: { eventBusName: 'default' } } })).toThrow(
      /ingest\.eventBridge\.eventBusName: "default" is not a Stripe partner event bus/,
    );
  });
});
