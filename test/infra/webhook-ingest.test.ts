// The webhook's way in as deployed: handle-webhook may only read its signing secret and send to the
// FIFO event queue; route-events consumes that queue in batches that report failures one by one, with
// everything the router needs, at most as many batches at once as the Stripe budget serves; a
// message failed ten times moves to a FIFO dead-letter queue whose first message raises an alarm.
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '#shared/config.ts';
import { routerConcurrencyFor } from '#infra/constructs/webhook-ingest.ts';
import { actionsOf, functionLogicalId, roleOfFunction, statementsOfRole, synthDunningStack } from './synth.ts';

let template: Template;
let queueId: string;
let deadLetterId: string;

beforeAll(() => {
  template = synthDunningStack().template;
  const ids = Object.keys(template.findResources('AWS::SQS::Queue'));
  queueId = ids.find((id) => /WebhookEventsQueue/.test(id))!;
  deadLetterId = ids.find((id) => /WebhookEventsDeadLetterQueue/.test(id))!;
});

describe('EventQueue (the webhook events)', () => {
  it('is a high-throughput FIFO queue deduplicated on the id the webhook gives, encrypted, with a visibility timeout six times the router\'s', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      VisibilityTimeout: 180,
      MessageRetentionPeriod: 14 * 86_400,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterId, 'Arn'] }, maxReceiveCount: 10 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true, MessageRetentionPeriod: 14 * 86_400 });
    expect(template.toJSON().Resources[deadLetterId].Properties).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true });
    expect(queueId).toBeTruthy();
  });

  it('alarms on the first message in its dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetterId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Period: 300,
      AlarmDescription: Match.stringLikeRegexp('webhookEvents dead-letter queue'),
    });
  });
});

describe('WebhookIngest', () => {
  it('lets route-events consume the queue in batches of 10, reporting failed messages one by one', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: functionLogicalId(template, 'route-events') },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 3 },
    });
  });

  // A burst must wait in the queue, where waiting counts no receive, not in the router, where a
  // message that waits past the pacing wait fails and moves toward the dead-letter queue.
  it('bounds the router batches in flight to what half the per-endpoint budget serves within the pacing wait', () => {
    // 8 a second per endpoint (the default): half of it over the 8 s wait is 32 messages, 3 batches.
    expect(routerConcurrencyFor(8)).toBe(3);
    expect(routerConcurrencyFor(25)).toBe(10);
    // Lambda's floor is 2, its ceiling 1,000.
    expect(routerConcurrencyFor(1)).toBe(2);
    expect(routerConcurrencyFor(100_000)).toBe(1000);

    const { template: larger } = synthDunningStack({ budget: { stripe: { perSecond: 50, perEndpointPerSecond: 25 } } });
    larger.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 10, ScalingConfig: { MaximumConcurrency: 10 } });
  });

  it('lets the webhook send to the event queue and read its signing secret, and nothing else of value', () => {
    const webhook = functionLogicalId(template, 'handle-webhook');
    const statements = statementsOfRole(template, roleOfFunction(template, webhook));

    expect(actionsOf(statements).filter((a) => !/^(xray|logs):/.test(a)).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'sqs:SendMessage']);
    expect(statements.find((s) => [s.Action].flat().includes('sqs:SendMessage'))?.Resource).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    const variables = template.toJSON().Resources[webhook].Properties.Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual([ENV.eventQueueUrl, ENV.stripeWebhookSecretArn, 'NODE_OPTIONS', 'POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME'].sort());
  });

  it('gives route-events what the router needs and the queue consumer actions, but not the signing secret', () => {
    const router = functionLogicalId(template, 'route-events');
    const actions = actionsOf(statementsOfRole(template, roleOfFunction(template, router)));

    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'states:StartExecution', 'states:StopExecution', 'ses:SendEmail', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']),
    );
    expect(actions).not.toContain('sqs:SendMessage');
    expect(Object.keys(template.toJSON().Resources[router].Properties.Environment.Variables)).not.toContain(ENV.stripeWebhookSecretArn);
  });
});
