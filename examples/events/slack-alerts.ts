// An example consumer of the dunning events: posts every recovery and every case that needs an
// operator to a Slack channel, straight from EventBridge (an API destination), with no Lambda.
import { Duration, SecretValue } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SOURCE, type DetailType } from '#shared/events/catalog.ts';

/** The detail-types worth a Slack message: money came back, or a person must look. */
export const SLACK_DETAIL_TYPES: readonly DetailType[] = ['Case Recovered', 'Case Needs Attention'];

export interface SlackAlertsProps {
  /** The bus the dunning stack publishes its events on (source `stripe-dunning`). */
  readonly eventBus: events.IEventBus;
  /**
   * The Slack incoming webhook URL (`https://hooks.slack.com/services/…`). Anyone holding it can
   * post to the channel: keep it out of source control, e.g. pass
   * `SecretValue.secretsManager('slack-webhook').unsafeUnwrap()`, a CloudFormation dynamic reference
   * resolved at deploy time.
   */
  readonly slackWebhookUrl: string;
}

export class SlackAlerts extends Construct {
  readonly rule: events.Rule;
  /** Where a message goes once EventBridge gives up on Slack: alarm on its depth. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SlackAlertsProps) {
    super(scope, id);

    // A Connection must authorize somehow, and an incoming webhook needs nothing (its secret is the
    // URL): an API key header Slack ignores is the least that satisfies EventBridge.
    const connection = new events.Connection(this, 'Connection', {
      description: 'Slack incoming webhook: the URL is the credential, this header is a placeholder',
      authorization: events.Authorization.apiKey('X-Unused-Auth', SecretValue.unsafePlainText('none')),
    });

    const destination = new events.ApiDestination(this, 'Destination', {
      description: 'Slack incoming webhook for dunning alerts',
      connection,
      endpoint: props.slackWebhookUrl,
      httpMethod: events.HttpMethod.POST,
      // Slack accepts about one message per second per webhook.
      rateLimitPerSecond: 1,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    const field = (name: string) => events.EventField.fromPath(`$.detail.${name}`);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Dunning recoveries and cases that need an operator, to Slack',
      eventBus: props.eventBus,
      eventPattern: { source: [EVENT_SOURCE], detailType: [...SLACK_DETAIL_TYPES] },
      targets: [
        new targets.ApiDestination(destination, {
          // The amount is in minor units (4900 eur is 49.00 EUR): the event carries no formatting.
          event: events.RuleTargetInput.fromObject({
            text: `${events.EventField.detailType}: ${field('invoiceId')} (${field('customerId')}), ${field('amount')} ${field('currency')}`,
          }),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }
}
