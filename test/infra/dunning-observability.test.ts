// What an operator gets in CloudWatch: every alarm (what it watches, when it fires, where it goes),
// the encrypted alarm topic, and every dashboard widget's metrics, read back from the DashboardBody.
import { App, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { DunningStack } from '#infra/index.ts';
import {
  DUNNING_METRICS,
  EMAIL_STAGES_OUTSIDE_POLICY,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  RECOVERY_ROUTES,
  WEBHOOK_REJECTION_REASONS,
  type MetricName,
} from '#shared/dunning/metrics.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import { functionLogicalId, renderedString, synthDunningStack, type Synthesized } from './synth.ts';

const FUNCTIONS = ['handle-webhook', 'route-events', 'send-notice', 'retry-payment', 'close-case', 'get-notice', 'open-payment-link', 'record-email-event', 'count-open-cases', 'flag-case', 'publish-events', 'get-access'] as const;
const NOTICE_STAGES = loadPolicyFile().stages.filter((stage) => stage.type === 'notice').map((stage) => stage.id);
const BUS = 'aws.partner/stripe.com/ed_test_123';

/** The metrics the issue asks for by name: each must be on the dashboard. */
const ISSUE_METRICS: MetricName[] = [
  'CaseOpened',
  'NoticeSent',
  'RetryAttempted',
  'RetrySucceeded',
  'CaseRecovered',
  'RecoveredAmount',
  'CaseTerminated',
  'NeedsAttention',
  'WebhookAccepted',
  'WebhookRejected',
  'EmailBounced',
];

let synth: Synthesized;
let template: Template;

beforeAll(() => {
  synth = synthDunningStack({ ingest: { eventBridge: { eventBusName: BUS } }, alarmEmail: 'oncall@acme.com' });
  template = synth.template;
});

// ---------------------------------------------------------------------------------------------------
// The dashboard body, parsed: each widget with its metrics in a comparable shape.

interface Widget {
  type: string;
  properties: {
    title?: string;
    view?: string;
    start?: string;
    stacked?: boolean;
    period?: number;
    setPeriodToTimeRange?: boolean;
    metrics?: unknown[][];
    alarms?: string[];
    annotations?: { horizontal?: Array<{ value: number }> };
  };
}

interface WidgetMetric {
  namespace?: string;
  name?: string;
  dimensions: Record<string, string>;
  stat?: string;
  period?: number;
  expression?: string;
  label?: string;
  id?: string;
}

function dashboardWidgets(t: Template): Widget[] {
  const body = new Capture();
  t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardBody: body });
  return (JSON.parse(renderedString(body.asObject())) as { widgets: Widget[] }).widgets;
}

function widget(t: Template, title: string | RegExp): Widget {
  const found = dashboardWidgets(t).filter((w) => (typeof title === 'string' ? w.properties.title === title : title.test(w.properties.title ?? '')));
  if (found.length !== 1 || !found[0]) throw new Error(`expected one widget titled ${title}, found ${found.length}`);
  return found[0];
}

/** A widget's metric rows: `[namespace, name, dim1, value1, …, { options }]` or `[{ expression… }]`. */
function metricsOf(w: Widget): WidgetMetric[] {
  return (w.properties.metrics ?? []).map((row) => {
    const options = (typeof row.at(-1) === 'object' ? row.at(-1) : {}) as Record<string, unknown>;
    const parts = row.filter((part) => typeof part === 'string') as string[];
    if (options.expression) return { dimensions: {}, expression: options.expression as string, label: options.label as string, id: options.id as string };
    const [namespace, name, ...pairs] = parts;
    const dimensions: Record<string, string> = {};
    for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]!] = pairs[i + 1]!;
    return { namespace, name, dimensions, stat: options.stat as string, period: options.period as number, label: options.label as string, id: options.id as string };
  });
}

const business = (name: MetricName, dimensions: Record<string, string> = {}) =>
  expect.objectContaining({ namespace: METRICS_NAMESPACE, name, dimensions: { service: METRICS_SERVICE, ...dimensions }, stat: 'Sum' });
const aws = (namespace: string, name: string, dimensions: Record<string, unknown>, stat: string) =>
  expect.objectContaining({ namespace, name, dimensions, stat });

describe('DunningDashboard', () => {
  it('shows the recovery funnel per stage, from opened through each notice stage to recovered or terminated', () => {
    const funnel = widget(template, /^Recovery funnel/);
    const metrics = metricsOf(funnel);

    expect(funnel.properties).toMatchObject({ view: 'bar', setPeriodToTimeRange: true });
    expect(metrics).toEqual(
      expect.arrayContaining([
        business('CaseOpened'),
        ...NOTICE_STAGES.map((stage) => business('NoticeSent', { Stage: stage })),
        business('RetryAttempted'),
        business('RetrySucceeded'),
        ...RECOVERY_ROUTES.map((route) => business('CaseRecovered', { RecoveredBy: route })),
        business('CaseTerminated'),
        business('NeedsAttention'),
      ]),
    );
    expect(metrics).toContainEqual(expect.objectContaining({ label: 'Recovered (any route)', expression: expect.stringMatching(/^FILL\(.+\) \+ /) }));
  });

  it.each([7, 30])('shows the recovery rate over the last %i days: recovered ÷ (recovered + terminated)', (days) => {
    const rate = widget(template, `Recovery rate, last ${days} days`);
    const metrics = metricsOf(rate);

    expect(rate).toMatchObject({ properties: { view: 'singleValue', start: `-P${days}D`, setPeriodToTimeRange: true } });
    expect(metrics[0]).toMatchObject({ expression: '100 * recovered / (recovered + FILL(terminated, 0))' });
    expect(metrics).toContainEqual(expect.objectContaining({ id: 'terminated', namespace: METRICS_NAMESPACE, name: 'CaseTerminated' }));
    expect(metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'recovered', expression: expect.stringContaining('FILL(') }),
        ...RECOVERY_ROUTES.map((route) => business('CaseRecovered', { RecoveredBy: route })),
        business('CaseTerminated'),
      ]),
    );
  });

  it('shows recovered revenue by currency, in minor units, from RecoveredAmount', () => {
    const revenue = widget(template, /^Recovered revenue/);

    expect(revenue.properties.title).toMatch(/minor units/);
    expect(metricsOf(revenue)).toEqual([
      expect.objectContaining({
        expression: `SEARCH('{${METRICS_NAMESPACE},service,Currency} MetricName="RecoveredAmount" service="${METRICS_SERVICE}"', 'Sum', 86400)`,
      }),
    ]);
  });

  it('shows the cases recovered by each route', () => {
    expect(metricsOf(widget(template, /^Cases recovered per day, by route/))).toEqual(
      RECOVERY_ROUTES.map((route) => business('CaseRecovered', { RecoveredBy: route })),
    );
  });

  it('graphs the OpenCases gauge at every stage of the policy (its Maximum at the gauge period), stacked', () => {
    const open = widget(template, /^Open cases now, by the last stage/);
    const stages = ['Opened', ...loadPolicyFile().stages.map((stage) => stage.id), 'Terminate'];

    expect(open.properties.stacked).toBe(true);
    // 300 s is CloudWatch's default period, which CDK leaves out of the body.
    expect(open.properties.period ?? 300).toBe(300);
    expect(metricsOf(open)).toEqual(
      stages.map((stage) =>
        expect.objectContaining({
          namespace: METRICS_NAMESPACE,
          name: 'OpenCases',
          dimensions: { service: METRICS_SERVICE, Stage: stage },
          stat: 'Maximum',
        }),
      ),
    );
  });

  it('shows the cases reaching each notice stage', () => {
    expect(metricsOf(widget(template, /^Cases reaching each notice stage/))).toEqual(
      NOTICE_STAGES.map((stage) => business('NoticeSent', { Stage: stage })),
    );
  });

  it('shows emails sent (every stage, closing emails included), bounced, and SES sends, bounces and complaints', () => {
    const metrics = metricsOf(widget(template, /^Emails:/));

    expect(metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ label: 'Sent by dunning (all stages)', expression: expect.stringContaining('FILL(') }),
        ...[...NOTICE_STAGES, ...EMAIL_STAGES_OUTSIDE_POLICY].map((stage) => business('NoticeSent', { Stage: stage })),
        business('EmailBounced'),
        business('NoticeUndeliverable'),
        aws('AWS/SES', 'Send', {}, 'Sum'),
        aws('AWS/SES', 'Bounce', {}, 'Sum'),
        aws('AWS/SES', 'Complaint', {}, 'Sum'),
      ]),
    );
  });

  it('shows the SES reputation with the alarm thresholds drawn in', () => {
    const reputation = widget(template, /^SES reputation/);

    expect(metricsOf(reputation)).toEqual([
      aws('AWS/SES', 'Reputation.BounceRate', {}, 'Maximum'),
      aws('AWS/SES', 'Reputation.ComplaintRate', {}, 'Maximum'),
    ]);
    expect(reputation.properties.annotations?.horizontal?.map((line) => line.value)).toEqual([0.05, 0.001]);
  });

  it('shows webhook deliveries accepted, and rejected by each reason', () => {
    expect(metricsOf(widget(template, /^Stripe webhook/))).toEqual([
      business('WebhookAccepted'),
      ...WEBHOOK_REJECTION_REASONS.map((reason) => business('WebhookRejected', { Reason: reason })),
    ]);
  });

  it('shows executions started, failed, timed out and throttled', () => {
    const machine = { StateMachineArn: '${Token[DunningWorkflowStateMachine' };
    const metrics = metricsOf(widget(template, /^Executions/));

    expect(metrics.map((m) => [m.namespace, m.name, m.stat])).toEqual([
      ['AWS/States', 'ExecutionsStarted', 'Sum'],
      ['AWS/States', 'ExecutionsFailed', 'Sum'],
      ['AWS/States', 'ExecutionsTimedOut', 'Sum'],
      ['AWS/States', 'ExecutionThrottled', 'Sum'],
    ]);
    for (const m of metrics) expect(m.dimensions.StateMachineArn).toMatch(new RegExp(`^${escape(machine.StateMachineArn)}`));
  });

  it.each([
    ['Lambda errors', 'Errors', 'Sum'],
    ['Lambda duration p99 (ms)', 'Duration', 'p99'],
    ['Lambda throttles', 'Throttles', 'Sum'],
  ])('shows %s of every function', (title, metricName, stat) => {
    const names = [...FUNCTIONS, 'handle-eventbridge'];

    expect(metricsOf(widget(template, title))).toEqual(
      names.map((name) => aws('AWS/Lambda', metricName, { FunctionName: `\${Token[${functionLogicalId(template, name)}]}` }, stat)),
    );
  });

  it("shows the webhook events', the email events' and the failed executions' dead-letter queues, and EventBridge's when that ingest is on", () => {
    const queueIds = Object.keys(template.findResources('AWS::SQS::Queue'));
    const webhookEvents = queueIds.find((id) => id.includes('WebhookEventsDeadLetterQueue'))!;
    const emailEvents = queueIds.find((id) => id.includes('EmailEvents'))!;
    const failedExecutions = queueIds.find((id) => id.includes('FailedExecutions'))!;
    const eventBridge = queueIds.find((id) => id.includes('EventBridge'))!;

    expect(metricsOf(widget(template, /^Dead-letter queues/))).toEqual([
      aws('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: `\${Token[${webhookEvents}]}` }, 'Maximum'),
      aws('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: `\${Token[${emailEvents}]}` }, 'Maximum'),
      aws('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: `\${Token[${failedExecutions}]}` }, 'Maximum'),
      aws('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: `\${Token[${eventBridge}]}` }, 'Maximum'),
    ]);
  });

  it('lists every alarm in its alarm status widget', () => {
    const alarms = widget(template, 'Alarms').properties.alarms ?? [];

    expect(alarms.map((alarm) => alarm.replace(/^\$\{Token\[(.+)\]\}$/, '$1')).sort()).toEqual(
      Object.keys(template.findResources('AWS::CloudWatch::Alarm')).sort(),
    );
  });

  it('puts every metric the issue names on the dashboard, and only metrics the code emits, with their dimension', () => {
    const all = dashboardWidgets(template).flatMap(metricsOf);
    const ours = all.filter((m) => m.namespace === METRICS_NAMESPACE);
    const searched = all.filter((m) => m.expression?.startsWith('SEARCH(')).map((m) => m.expression!);

    for (const name of ISSUE_METRICS) {
      expect(ours.some((m) => m.name === name) || searched.some((e) => e.includes(`MetricName="${name}"`)), name).toBe(true);
    }
    for (const m of ours) {
      const spec = DUNNING_METRICS[m.name as MetricName] as { dimension?: string } | undefined;
      expect(spec, `${m.name} is not in DUNNING_METRICS`).toBeDefined();
      expect(Object.keys(m.dimensions).sort()).toEqual(['service', ...(spec?.dimension ? [spec.dimension] : [])].sort());
    }
  });

  it("shows only the webhook events', the email events' and the failed executions' dead-letter queues without EventBridge ingest", () => {
    const { template: plain } = synthDunningStack();

    expect(metricsOf(widget(plain, /^Dead-letter queues/))).toHaveLength(3);
  });
});

// ---------------------------------------------------------------------------------------------------

const TOPIC = { Ref: Match.stringLikeRegexp('^AlarmsTopic') };

describe('DunningAlarms', () => {
  it('alarms when the event bus refuses events for three five-minute windows in a row, not on one refusal the sweep retries', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: 'EventPublishFailed',
      Threshold: 1,
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [TOPIC],
    });
  });

  it('alarms on the first charge made against the retry rules (WastedAttempt), which must stay 0', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: 'WastedAttempt',
      Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmDescription: Match.stringLikeRegexp("Stripe's own automatic retries"),
    });
  });

  it('alarms on the first NeedsAttention of five minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: 'NeedsAttention',
      Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on a burst of webhook signature rejections: 10 in five minutes unless tuned', () => {
    const signature = {
      Namespace: METRICS_NAMESPACE,
      MetricName: 'WebhookRejected',
      Dimensions: [
        { Name: 'Reason', Value: 'signature_invalid' },
        { Name: 'service', Value: METRICS_SERVICE },
      ],
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ...signature, Threshold: 10 });

    const { template: tuned } = synthDunningStack({ alarms: { signatureRejectionBurst: 3 } });
    tuned.hasResourceProperties('AWS::CloudWatch::Alarm', { ...signature, Threshold: 3 });
  });

  it.each([
    ['Reputation.BounceRate', 0.05],
    ['Reputation.ComplaintRate', 0.001],
  ])('alarms when the account SES %s goes above %f', (metricName, threshold) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SES',
      MetricName: metricName,
      Dimensions: Match.absent(),
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('leaves the account-wide SES alarms out when told another stack owns them', () => {
    const { template: t } = synthDunningStack({ alarms: { sesReputation: false } });

    expect(Object.values(t.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/SES' } }))).toHaveLength(0);
  });

  it('alarms on the first message in the EventBridge dead-letter queue', () => {
    const queueId = Object.keys(template.findResources('AWS::SQS::Queue'))[0]!;

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [TOPIC],
    });
  });

  it('alarms on failed and timed-out executions and on errors of every function, to the topic', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/States', MetricName: metric, AlarmActions: [TOPIC] });
    }
    for (const name of [...FUNCTIONS, 'handle-eventbridge']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(template, name) } }],
        AlarmActions: [TOPIC],
      });
    }
  });

  it('sends every alarm, and its description of what to do, to the alarm topic', () => {
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [TOPIC], AlarmDescription: Match.stringLikeRegexp('.{20,}') });
    // 2 executions + every function (EventBridge's included) + needs attention + wasted attempts + signatures + events not published + 2 SES + 4 dead-letter queues.
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(2 + FUNCTIONS.length + 1 + 1 + 1 + 1 + 1 + 2 + 4);
  });
});

describe('AlarmTopic (in DunningStack)', () => {
  it('encrypts the topic with a rotated customer-managed key that CloudWatch may use', () => {
    const keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0]!;

    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });

  it('refuses publishing over plain HTTP', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('subscribes the alarm email when one is given, and nothing otherwise', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@acme.com', TopicArn: TOPIC });

    const { template: quiet } = synthDunningStack();
    const emailSubscriptions = (t: Template) => Object.values(t.findResources('AWS::SNS::Subscription')).filter((r) => r.Properties.Protocol === 'email');
    expect(emailSubscriptions(quiet)).toHaveLength(0);
    // The alarm topic, beside the SES events topic.
    expect(Object.keys(quiet.findResources('AWS::SNS::Topic')).filter((id) => !id.includes('EmailEvents'))).toHaveLength(1);
  });

  it('rejects an alarm email that is not an address, naming the context key', () => {
    expect(() => synthDunningStack({ alarmEmail: 'oncall' })).toThrow(/alarmEmail: "oncall" is not an email address/);
  });

  it('creates no topic when the workflow is given one of yours', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const shared = new Stack(app, 'Shared');
    const yours = new Topic(shared, 'Pager');
    const stack = new DunningStack(app, 'Dunning', { dunning: { policy: loadPolicyFile(), email: { sender: 'billing@acme.com' }, alarmTopic: yours } });
    const t = Template.fromStack(stack);

    expect(Object.keys(t.findResources('AWS::SNS::Topic')).filter((id) => !id.includes('EmailEvents'))).toHaveLength(0);
    expect(stack.alarmTopic).toBeUndefined();
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
