// One CloudWatch dashboard that answers "is money being recovered?" before "is anything broken?":
// the funnel, the recovery rate and revenue first, then email, webhook, executions and functions.
// Every business metric comes from DUNNING_METRICS, the constant the functions emit from.
import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  GraphWidgetView,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  type IAlarm,
  type IMetric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  EMAIL_STAGES_OUTSIDE_POLICY,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  RECOVERY_ROUTES,
  WEBHOOK_REJECTION_REASONS,
  type DimensionOf,
  type MetricName,
} from '#shared/dunning/metrics.ts';
import { openCaseStages } from '#shared/dunning/open-cases.ts';
import type { Policy } from '#shared/policy/schema.ts';
import { singlePolicySet } from '#shared/policy/segments.ts';
import { businessMetric } from './business-metric.ts';
import { SES_BOUNCE_RATE_THRESHOLD, SES_COMPLAINT_RATE_THRESHOLD, sesReputation } from './dunning-alarms.ts';

const DAY = Duration.days(1);
const FIVE_MINUTES = Duration.minutes(5);

export interface DunningDashboardProps {
  /** The validated policy: its stages, in order, are the funnel's steps. */
  readonly policy: Policy;
  /** The dunning state machine: executions failed, timed out and throttled. */
  readonly stateMachine: IStateMachine;
  /** Every function, keyed by a readable name used as its line label. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Dead-letter queues to graph, keyed by a readable name. @default - none */
  readonly deadLetterQueues?: Readonly<Record<string, IQueue>>;
  /** Shown in an alarm status widget at the top. @default - no alarm widget */
  readonly alarms?: readonly IAlarm[];
  /** @default - CloudFormation generates a name */
  readonly dashboardName?: string;
  /** The namespace the functions publish their metrics to. @default 'Dunning' */
  readonly metricsNamespace?: string;
  /**
   * The `OpenCases` gauge (see OpenCasesGauge): the Stage values to graph, in order, and how often
   * it is emitted. @default - the policy's stages (openCaseStages), every 5 minutes
   */
  readonly openCases?: { readonly stages: readonly string[]; readonly period?: Duration };
}

export class DunningDashboard extends Construct {
  readonly dashboard: Dashboard;
  private readonly namespace: string;
  private sums = 0;

  constructor(scope: Construct, id: string, props: DunningDashboardProps) {
    super(scope, id);
    this.namespace = props.metricsNamespace ?? METRICS_NAMESPACE;
    const noticeStages = props.policy.stages.filter((stage) => stage.type === 'notice').map((stage) => stage.id);
    const openCaseStagesShown = props.openCases?.stages ?? openCaseStages(singlePolicySet(props.policy));
    const gaugePeriod = props.openCases?.period ?? FIVE_MINUTES;

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(7),
    });

    const rows: IWidget[][] = [];
    rows.push([
      new TextWidget({
        markdown: [
          '# Dunning',
          `Failed renewals (cases) through the policy: ${props.policy.stages.map((s) => s.id).join(' → ')} → end on day ${props.policy.end.day}.`,
          'Business metrics: namespace `' + this.namespace + '`, `service=' + METRICS_SERVICE + '`. Runbook: the README, "Monitor it in CloudWatch".',
        ].join('\n\n'),
        width: props.alarms?.length ? 12 : 24,
        height: 4,
      }),
      ...(props.alarms?.length ? [new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 12, height: 4 })] : []),
    ]);

    // Money first.
    rows.push([
      new GraphWidget({
        title: 'Recovery funnel: cases through each stage over the time range',
        view: GraphWidgetView.BAR,
        setPeriodToTimeRange: true,
        width: 12,
        height: 7,
        left: [
          this.business('CaseOpened', undefined, 'Opened'),
          ...noticeStages.map((stage) => this.business('NoticeSent', { Stage: stage }, `Reached ${stage} (notice sent)`)),
          this.business('RetryAttempted', undefined, 'Payment attempts'),
          this.business('RetrySucceeded', undefined, 'Attempts that paid'),
          this.sumOf('Recovered (any route)', this.recoveredByRoute()),
          this.business('CaseTerminated', undefined, 'Terminated'),
          this.business('NeedsAttention', undefined, 'Needs attention'),
        ],
      }),
      ...[7, 30].map(
        (days) =>
          new SingleValueWidget({
            title: `Recovery rate, last ${days} days`,
            start: `-P${days}D`,
            setPeriodToTimeRange: true,
            width: 6,
            height: 7,
            metrics: [this.recoveryRate()],
          }),
      ),
    ]);
    rows.push([
      new GraphWidget({
        title: 'Recovered revenue per day, by currency (minor units: cents, pence, yen)',
        width: 12,
        height: 6,
        left: [
          new MathExpression({
            expression: `SEARCH('{${this.namespace},service,Currency} MetricName="RecoveredAmount" service="${METRICS_SERVICE}"', 'Sum', 86400)`,
            label: '',
            period: DAY,
            usingMetrics: {},
          }),
        ],
      }),
      new GraphWidget({
        title: 'Cases recovered per day, by route',
        stacked: true,
        width: 12,
        height: 6,
        left: this.recoveredByRoute(DAY),
      }),
    ]);
    rows.push([
      new GraphWidget({
        title: 'Open cases now, by the last stage that acted (the OpenCases gauge)',
        stacked: true,
        width: 12,
        height: 6,
        left: openCaseStagesShown.map((stage) =>
          this.business('OpenCases', { Stage: stage }, stage, gaugePeriod).with({ statistic: 'Maximum' }),
        ),
      }),
      new GraphWidget({
        title: 'Cases reaching each notice stage per day (notices sent, by Stage)',
        stacked: true,
        width: 12,
        height: 6,
        left: noticeStages.map((stage) => this.business('NoticeSent', { Stage: stage }, stage, DAY)),
      }),
    ]);

    // Email and the webhook.
    rows.push([
      new GraphWidget({
        title: 'Emails: sent by dunning, bounced; SES account-wide sends, bounces and complaints',
        width: 12,
        height: 6,
        left: [
          this.sumOf(
            'Sent by dunning (all stages)',
            [...noticeStages, ...EMAIL_STAGES_OUTSIDE_POLICY].map((stage) => this.business('NoticeSent', { Stage: stage }, stage, FIVE_MINUTES)),
            FIVE_MINUTES,
          ),
          this.business('EmailBounced', undefined, 'Bounced (dunning)', FIVE_MINUTES),
          this.business('NoticeUndeliverable', undefined, 'Undeliverable (no address, or rejected)', FIVE_MINUTES),
          ...(['Send', 'Bounce', 'Complaint'] as const).map(
            (metricName) => new Metric({ namespace: 'AWS/SES', metricName, statistic: 'Sum', period: FIVE_MINUTES, label: `SES ${metricName} (account)` }),
          ),
        ],
      }),
      new GraphWidget({
        title: 'SES reputation (account): bounce and complaint rate',
        width: 12,
        height: 6,
        left: [sesReputation('Reputation.BounceRate').with({ label: 'Bounce rate' }), sesReputation('Reputation.ComplaintRate').with({ label: 'Complaint rate' })],
        leftAnnotations: [
          { value: SES_BOUNCE_RATE_THRESHOLD, label: `Bounce alarm (${SES_BOUNCE_RATE_THRESHOLD * 100}%)` },
          { value: SES_COMPLAINT_RATE_THRESHOLD, label: `Complaint alarm (${SES_COMPLAINT_RATE_THRESHOLD * 100}%)` },
        ],
      }),
    ]);
    rows.push([
      new GraphWidget({
        title: 'Stripe webhook: accepted, and rejected by reason',
        stacked: true,
        width: 24,
        height: 6,
        left: [
          this.business('WebhookAccepted', undefined, 'Accepted', FIVE_MINUTES),
          ...WEBHOOK_REJECTION_REASONS.map((reason) => this.business('WebhookRejected', { Reason: reason }, `Rejected: ${reason}`, FIVE_MINUTES)),
        ],
      }),
    ]);

    // The machinery.
    rows.push([
      new GraphWidget({
        title: 'Executions: started, failed, timed out, throttled',
        width: 24,
        height: 6,
        left: [
          props.stateMachine.metricStarted({ statistic: 'Sum', period: FIVE_MINUTES, label: 'Started' }),
          props.stateMachine.metricFailed({ statistic: 'Sum', period: FIVE_MINUTES, label: 'Failed' }),
          props.stateMachine.metricTimedOut({ statistic: 'Sum', period: FIVE_MINUTES, label: 'Timed out' }),
          props.stateMachine.metricThrottled({ statistic: 'Sum', period: FIVE_MINUTES, label: 'Throttled' }),
        ],
      }),
    ]);
    const functions = Object.entries(props.functions);
    rows.push([
      new GraphWidget({
        title: 'Lambda errors',
        width: 8,
        height: 6,
        left: functions.map(([name, fn]) => fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES, label: name })),
      }),
      new GraphWidget({
        title: 'Lambda duration p99 (ms)',
        width: 8,
        height: 6,
        left: functions.map(([name, fn]) => fn.metricDuration({ statistic: 'p99', period: FIVE_MINUTES, label: name })),
      }),
      new GraphWidget({
        title: 'Lambda throttles',
        width: 8,
        height: 6,
        left: functions.map(([name, fn]) => fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES, label: name })),
      }),
    ]);
    const queues = Object.entries(props.deadLetterQueues ?? {});
    if (queues.length > 0) {
      rows.push([
        new GraphWidget({
          title: 'Dead-letter queues: events waiting to be replayed',
          width: 24,
          height: 5,
          left: queues.map(([name, queue]) =>
            queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES, label: name }),
          ),
        }),
      ]);
    }
    for (const row of rows) this.dashboard.addWidgets(...row);
  }

  private business<N extends MetricName>(name: N, dimensions: Record<DimensionOf<N>, string> | undefined, label: string, period = DAY): Metric {
    return businessMetric(this.namespace, name, dimensions, { period, label });
  }

  private recoveredByRoute(period = DAY): Metric[] {
    return RECOVERY_ROUTES.map((route) => this.business('CaseRecovered', { RecoveredBy: route }, route, period));
  }

  /** The sum of `metrics`, a missing data point counting as 0. */
  private sumOf(label: string, metrics: IMetric[], period = DAY): MathExpression {
    // Ids are unique across the dashboard: expressions nested in one another share one namespace.
    const group = this.sums++;
    const usingMetrics = Object.fromEntries(metrics.map((metric, index) => [`s${group}m${index}`, metric]));
    return new MathExpression({
      expression: Object.keys(usingMetrics).map((id) => `FILL(${id}, 0)`).join(' + '),
      label,
      period,
      usingMetrics,
    });
  }

  /** Recovered ÷ (recovered + terminated): of the cases that ended in the window, how many paid. */
  private recoveryRate(): MathExpression {
    const recovered = this.sumOf('Recovered', this.recoveredByRoute());
    return new MathExpression({
      expression: '100 * recovered / (recovered + FILL(terminated, 0))',
      label: 'Recovered ÷ (recovered + terminated), %',
      period: DAY,
      usingMetrics: { recovered, terminated: this.business('CaseTerminated', undefined, 'Terminated') },
    });
  }
}
