// The alarms that mean "a person should look", each to the alarm topic: an execution failed or timed
// out, a function threw, a case needs a person, the webhook is refusing Stripe's signatures, SES is
// close to pausing the account, the event bus keeps refusing the case events, or an event waits in
// a dead-letter queue. The README's runbook says what to do for each.
import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Metric,
  TreatMissingData,
  type IAlarmAction,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, type DimensionOf, type MetricName } from '#shared/dunning/metrics.ts';
import { businessMetric } from './business-metric.ts';

/** One evaluation window: dunning runs on day granularity, so five minutes is prompt enough. */
const PERIOD = Duration.minutes(5);

/** SES's reputation metrics move slowly; an hour smooths a single bounce of a small batch. */
const SES_PERIOD = Duration.hours(1);

/** SES reviews an account above these, and may pause its sending above 10% and 0.5%. */
export const SES_BOUNCE_RATE_THRESHOLD = 0.05;
export const SES_COMPLAINT_RATE_THRESHOLD = 0.001;

export interface DunningAlarmsProps {
  /** The dunning state machine, watched for failed and timed-out executions. */
  readonly stateMachine: IStateMachine;
  /** The functions to watch for errors, keyed by a readable name used in the alarm ids and descriptions. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /**
   * Dead-letter queues alarmed on their first message, keyed by a readable name (`eventBridge`).
   * @default - none
   */
  readonly deadLetterQueues?: Readonly<Record<string, IQueue>>;
  /** Where alarms are sent. @default - no action; the alarms show in the CloudWatch console only */
  readonly topic?: ITopic;
  /**
   * Webhook deliveries refused for a bad signature, within five minutes, that page. Stripe retries a
   * failed delivery for days, so a rotated signing secret shows as a steady stream; a probe as a spike.
   * @default 10
   */
  readonly signatureRejectionBurst?: number;
  /**
   * Alarm on the account's SES reputation (bounce rate over 5%, complaint rate over 0.1%). These are
   * account-wide metrics: turn them off when another stack in the account already alarms on them.
   * @default true
   */
  readonly sesReputation?: boolean;
  /** The namespace the functions publish their metrics to. @default 'Dunning' */
  readonly metricsNamespace?: string;
}

export class DunningAlarms extends Construct {
  readonly executionsFailed: Alarm;
  readonly executionsTimedOut: Alarm;
  /** One alarm per function, keyed like `props.functions`. */
  readonly functionErrors: Readonly<Record<string, Alarm>>;
  readonly needsAttention: Alarm;
  /** A charge broke the retry rules (a stopped card, a network cap, outside business hours): must stay 0. */
  readonly wastedAttempt: Alarm;
  readonly webhookSignatureRejections: Alarm;
  /** The event bus refused events for three windows in a row: your systems stopped hearing about cases. */
  readonly eventsNotPublished: Alarm;
  /** Undefined when `sesReputation` is false. */
  readonly sesBounceRate?: Alarm;
  /** Undefined when `sesReputation` is false. */
  readonly sesComplaintRate?: Alarm;
  /** One alarm per dead-letter queue, keyed like `props.deadLetterQueues`. */
  readonly deadLetters: Readonly<Record<string, Alarm>>;
  /** Every alarm above, for a dashboard's alarm status widget. */
  readonly all: readonly Alarm[];

  private readonly action?: IAlarmAction;
  private readonly namespace: string;

  constructor(scope: Construct, id: string, props: DunningAlarmsProps) {
    super(scope, id);
    this.action = props.topic ? new SnsAction(props.topic) : undefined;
    this.namespace = props.metricsNamespace ?? METRICS_NAMESPACE;

    this.executionsFailed = this.alarm(
      'ExecutionsFailed',
      props.stateMachine.metricFailed({ period: PERIOD, statistic: 'Sum' }),
      'A dunning execution failed: a case is flagged needs_attention (or the workflow broke). See the runbook.',
    );
    this.executionsTimedOut = this.alarm(
      'ExecutionsTimedOut',
      props.stateMachine.metricTimedOut({ period: PERIOD, statistic: 'Sum' }),
      'A dunning execution outlived its policy by a week: a Wait or a stage is stuck.',
    );
    this.functionErrors = Object.fromEntries(
      Object.entries(props.functions).map(([name, fn]) => [
        name,
        this.alarm(
          `${pascal(name)}Errors`,
          fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
          `The dunning ${name} function threw; Step Functions retries stages, so check its logs.`,
        ),
      ]),
    );
    this.needsAttention = this.alarm(
      'NeedsAttention',
      this.business('NeedsAttention'),
      'A dunning case needs a person: a stage failed for good and the case is flagged needs_attention. See the runbook.',
    );
    this.wastedAttempt = this.alarm(
      'WastedAttempt',
      this.business('WastedAttempt'),
      "A card was charged against the retry rules: a card the issuer said never to retry, past a card network's retry cap, or outside the customer's business hours. Usually Stripe's own automatic retries are on under retries: \"workflow\" (turn them off); the log line 'a charge broke the retry rules' names the case and the rule. See the runbook.",
    );
    this.webhookSignatureRejections = this.alarm(
      'WebhookSignatureRejections',
      this.business('WebhookRejected', { Reason: 'signature_invalid' }),
      'The Stripe webhook refused a burst of deliveries for a bad signature: the signing secret was rolled without updating ours, or someone is probing the endpoint.',
      props.signatureRejectionBurst ?? 10,
    );
    // One refused PutEvents is retried within a minute and is no news; fifteen minutes of refusals
    // (a deleted bus, a bus policy, a quota) is, though no event is lost: each waits in the outbox.
    this.eventsNotPublished = this.alarm(
      'EventsNotPublished',
      this.business('EventPublishFailed'),
      "The event bus has refused dunning events for 15 minutes: your own systems (CRM, support desk, Slack) are not hearing about cases. Nothing is lost: the events wait in the outbox and go out once the bus accepts them. The publish-events logs ('event bus unavailable', 'events refused by the bus') say why. See the runbook.",
      1,
      ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      3,
    );
    if (props.sesReputation ?? true) {
      this.sesBounceRate = this.alarm(
        'SesBounceRate',
        sesReputation('Reputation.BounceRate'),
        `The account's SES bounce rate is above ${SES_BOUNCE_RATE_THRESHOLD * 100}%: SES may pause sending. Stale addresses; check EmailBounced and the suppression list.`,
        SES_BOUNCE_RATE_THRESHOLD,
        ComparisonOperator.GREATER_THAN_THRESHOLD,
      );
      this.sesComplaintRate = this.alarm(
        'SesComplaintRate',
        sesReputation('Reputation.ComplaintRate'),
        `The account's SES complaint rate is above ${SES_COMPLAINT_RATE_THRESHOLD * 100}%: customers mark the notices as spam. Review the copy and the cadence.`,
        SES_COMPLAINT_RATE_THRESHOLD,
        ComparisonOperator.GREATER_THAN_THRESHOLD,
      );
    }
    this.deadLetters = Object.fromEntries(
      Object.entries(props.deadLetterQueues ?? {}).map(([name, queue]) => [
        name,
        this.alarm(
          `${pascal(name)}DeadLetterQueueNotEmpty`,
          queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
          `Messages wait in the ${name} dead-letter queue: they failed every retry. Fix the cause, then replay them (see README, "Monitor it in CloudWatch").`,
        ),
      ]),
    );
    this.all = [
      this.executionsFailed,
      this.executionsTimedOut,
      ...Object.values(this.functionErrors),
      this.needsAttention,
      this.wastedAttempt,
      this.webhookSignatureRejections,
      this.eventsNotPublished,
      ...(this.sesBounceRate ? [this.sesBounceRate] : []),
      ...(this.sesComplaintRate ? [this.sesComplaintRate] : []),
      ...Object.values(this.deadLetters),
    ];
  }

  private alarm(
    alarmId: string,
    metric: IMetric,
    description: string,
    threshold = 1,
    comparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods = 1,
  ): Alarm {
    const created = new Alarm(this, alarmId, {
      metric,
      threshold,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      comparisonOperator,
      // No executions, invocations or emails in a window is the normal quiet state, not a failure.
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    if (this.action) created.addAlarmAction(this.action);
    return created;
  }

  private business<N extends MetricName>(name: N, dimensions?: Record<DimensionOf<N>, string>): Metric {
    return businessMetric(this.namespace, name, dimensions, { period: PERIOD });
  }
}

/** Account-level SES reputation (a fraction, 0 to 1), published by SES without dimensions. */
export function sesReputation(metricName: 'Reputation.BounceRate' | 'Reputation.ComplaintRate', period = SES_PERIOD): Metric {
  return new Metric({ namespace: 'AWS/SES', metricName, period, statistic: 'Maximum' });
}

function pascal(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}
