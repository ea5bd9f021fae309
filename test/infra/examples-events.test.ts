// The Slack example in examples/events/ as a merchant would deploy it beside the dunning stack: it
// must keep synthesizing, match exactly the two detail-types it says, and never drop a message
// silently.
import { App, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { beforeAll, describe, expect, it } from 'vitest';
import { SlackAlerts } from '../../examples/events/slack-alerts.ts';

const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/XXXX';

let template: Template;
beforeAll(() => {
  const stack = new Stack(new App(), 'Alerts');
  new SlackAlerts(stack, 'Slack', { eventBus: new EventBus(stack, 'DunningEvents'), slackWebhookUrl: WEBHOOK });
  template = Template.fromStack(stack);
});

describe('the SlackAlerts example', () => {
  it('posts to the webhook through one API destination and its connection', () => {
    template.resourceCountIs('AWS::Events::ApiDestination', 1);
    template.resourceCountIs('AWS::Events::Connection', 1);
    template.hasResourceProperties('AWS::Events::ApiDestination', { HttpMethod: 'POST', InvocationEndpoint: WEBHOOK });
  });

  it('matches only recoveries and cases that need attention, from stripe-dunning, on the given bus', () => {
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('^DunningEvents') },
      EventPattern: Match.exact({ source: ['stripe-dunning'], 'detail-type': ['Case Recovered', 'Case Needs Attention'] }),
    });
  });

  it('sends Slack a text naming the detail-type, invoice, customer and amount', () => {
    const transformer = new Capture();
    template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ InputTransformer: transformer })] });
    const { InputPathsMap: paths, InputTemplate: body } = transformer.asObject() as { InputPathsMap: Record<string, string>; InputTemplate: string };
    const filled = body.replace(/<([^>]+)>/g, (_, name: string) => `{${paths[name]}}`);
    expect(JSON.parse(filled)).toEqual({
      text: '{$.detail-type}: {$.detail.invoiceId} ({$.detail.customerId}), {$.detail.amount} {$.detail.currency}',
    });
  });

  it('retries a failed post and then keeps it in a dead-letter queue', () => {
    const queue = new Capture();
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: Match.anyValue(), MaximumEventAgeInSeconds: Match.anyValue() },
        }),
      ],
    });
    expect(template.toJSON().Resources[queue.asString()].Type).toBe('AWS::SQS::Queue');
  });
});
