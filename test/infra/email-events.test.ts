// The SES configuration set's deliverability wiring: which events it publishes, where they go,
// what SES suppresses on its own, and that nothing tracks opens or clicks unless asked to.
import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { ConfigurationSet } from 'aws-cdk-lib/aws-ses';
import { Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { actionsOf, functionLogicalId, roleOfFunction, statementsOfRole, synthDunningStack } from './synth.ts';

let template: Template;
beforeAll(() => {
  template = synthDunningStack().template;
});

function destinationEventTypes(t: Template): string[] {
  const destinations = Object.values(t.findResources('AWS::SES::ConfigurationSetEventDestination')) as Array<{
    Properties: { EventDestination: { MatchingEventTypes: string[] } };
  }>;
  expect(destinations).toHaveLength(1);
  return [...destinations[0]!.Properties.EventDestination.MatchingEventTypes].sort();
}

describe('the notice configuration set', () => {
  it('has SES suppress hard bounces and complaints for it (the account-level suppression list)', () => {
    template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      SuppressionOptions: { SuppressedReasons: Match.arrayEquals(['BOUNCE', 'COMPLAINT']) },
      SendingOptions: { SendingEnabled: true },
    });
  });

  it('publishes delivery, bounce, complaint and reject events, and no open or click, to an encrypted SNS topic', () => {
    const topic = new Capture();
    const configurationSet = new Capture();
    template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      ConfigurationSetName: { Ref: configurationSet },
      EventDestination: { Enabled: true, SnsDestination: { TopicARN: { Ref: topic } } },
    });

    expect(destinationEventTypes(template)).toEqual(['bounce', 'complaint', 'delivery', 'reject']);
    expect(template.toJSON().Resources[configurationSet.asString()].Type).toBe('AWS::SES::ConfigurationSet');
    expect(template.toJSON().Resources[topic.asString()].Properties.KmsMasterKeyId).toBeDefined();
  });

  it('lets SES, for this configuration set only, publish to the topic and use its key', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Principal: { Service: 'ses.amazonaws.com' },
            Condition: { StringEquals: Match.objectLike({ 'AWS:SourceArn': Match.anyValue() }) },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
            Principal: { Service: 'ses.amazonaws.com' },
            Condition: { StringEquals: Match.objectLike({ 'AWS:SourceArn': Match.anyValue() }) },
          }),
        ]),
      },
    });
  });

  it('tracks opens and clicks only when the tracking prop turns them on', () => {
    const opens = synthDunningStack({ email: { sender: 'billing@acme.com', tracking: { opens: true } } }).template;
    const both = synthDunningStack({ email: { sender: 'billing@acme.com', tracking: { opens: true, clicks: true } } }).template;

    expect(destinationEventTypes(opens)).toEqual(['bounce', 'complaint', 'delivery', 'open', 'reject']);
    expect(destinationEventTypes(both)).toEqual(['bounce', 'click', 'complaint', 'delivery', 'open', 'reject']);
  });

  it('adds its event destination to a configuration set you bring', () => {
    const { template: own } = synthDunningStack({
      email: {
        sender: 'billing@acme.com',
        configurationSet: ConfigurationSet.fromConfigurationSetName(new Stack(), 'Own', 'acme-billing'),
      },
    });

    own.resourceCountIs('AWS::SES::ConfigurationSet', 0);
    own.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', { ConfigurationSetName: 'acme-billing' });
  });
});

describe('record-email-event', () => {
  it('is subscribed to the topic with a dead-letter queue for messages SNS cannot deliver', () => {
    const queue = new Capture();
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      Endpoint: { 'Fn::GetAtt': [functionLogicalId(template, 'record-email-event'), 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [queue, 'Arn'] } },
    });
    expect(template.toJSON().Resources[queue.asString()].Type).toBe('AWS::SQS::Queue');
  });

  it('retries a failed invocation twice, then keeps it in the same queue, which alarms', () => {
    const queue = new Capture();
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionLogicalId(template, 'record-email-event') },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue.asString(), 'QueueName'] } }],
      Threshold: 1,
    });
  });

  it('may only use the table and send to its dead-letter queue: no email, no Stripe secret', () => {
    const statements = statementsOfRole(template, roleOfFunction(template, functionLogicalId(template, 'record-email-event')));
    const others = statements.filter((s) => actionsOf([s]).some((a) => !/^(dynamodb|xray|logs):/.test(a)));

    expect(actionsOf(others)).toEqual(['sqs:SendMessage']);
    expect(others.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^DunningEmailEventsDeadLetterQueue/), 'Arn'] }]);
  });
});
