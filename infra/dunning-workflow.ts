// The one public construct: serverless dunning for Stripe subscriptions. A failed renewal starts a
// Standard execution per invoice that emails, retries payment and finally cancels, per the policy.
//
//   new DunningWorkflow(this, 'Dunning', { policy, email: { sender: 'billing@acme.com' } });
import { AspectPriority, Aspects, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IConfigurationSet } from 'aws-cdk-lib/aws-ses';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { openCaseStages } from '#shared/dunning/open-cases.ts';
import { METRICS_NAMESPACE } from '#shared/dunning/metrics.ts';
import { parsePolicySet } from '#shared/policy/load.ts';
import { DEFAULT_POLICY_NAME, type PolicySet, type PolicySetInput } from '#shared/policy/segments.ts';
import type { Policy, PolicyInput } from '#shared/policy/schema.ts';
import { NoRedundantDependsOn } from './aspects/no-redundant-depends-on.ts';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { AccessApi } from './constructs/access-api.ts';
import { EventPublisher } from './constructs/event-publisher.ts';
import { DunningAlarms, type DunningAlarmsProps } from './constructs/dunning-alarms.ts';
import { DunningDashboard } from './constructs/dunning-dashboard.ts';
import type { DunningFunction, RequestBudgets } from './constructs/dunning-function.ts';
import { DunningStateMachine } from './constructs/dunning-state-machine.ts';
import { DunningStore } from './constructs/dunning-store.ts';
import { EmailEvents, type EmailTrackingProps } from './constructs/email-events.ts';
import { EventBridgeIngest } from './constructs/eventbridge-ingest.ts';
import { FailedExecutionFlagger } from './constructs/failed-execution-flagger.ts';
import { NoticeApi } from './constructs/notice-api.ts';
import { NoticeEmail } from './constructs/notice-email.ts';
import { OpenCasesGauge } from './constructs/open-cases-gauge.ts';
import { StageFunctions } from './constructs/stage-functions.ts';
import { StripeSecrets } from './constructs/stripe-secrets.ts';
import { UpdatePaymentLink } from './constructs/update-payment-link.ts';
import { WebhookIngest } from './constructs/webhook-ingest.ts';

/** How notices are sent. */
export interface DunningEmailProps {
  /**
   * The From of every notice: `billing@acme.com` or `Acme Billing <billing@acme.com>`. Verify the
   * address or its domain in SES first; the functions may send as this address only.
   */
  readonly sender: string;
  /** Reply-To addresses. @default - replies go to the sender */
  readonly replyTo?: string[];
  /**
   * The configuration set notices are sent through. The workflow adds its event destination to it
   * (delivery, bounce, complaint, reject → SNS → record-email-event), so use one you dedicate to it.
   * @default - a new configuration set with reputation metrics and bounce/complaint suppression
   */
  readonly configurationSet?: IConfigurationSet;
  /**
   * Open and click tracking: `{ opens: true }` makes SES add a tracking pixel to each HTML email,
   * `{ clicks: true }` rewrites links through SES's tracking domain, and each open or click is
   * recorded on the case.
   * @default - neither: no tracking pixel, links untouched
   */
  readonly tracking?: EmailTrackingProps;
}

/** Stripe credentials you already keep in Secrets Manager. */
export interface DunningSecretsProps {
  /** Holds the Stripe secret key (`sk_...` or restricted `rk_...`). @default - a placeholder secret is created */
  readonly stripeApiKey?: ISecret;
  /** Holds the webhook endpoint's signing secret (`whsec_...`). @default - a placeholder secret is created */
  readonly webhookSigningSecret?: ISecret;
  /**
   * Signs the one-click "update payment details" links (at least 32 characters). Changing it makes
   * every link already emailed show "this link doesn't work" (they still reach My Account).
   * @default - a secret with a random value is generated at deploy time
   */
  readonly linkSigningKey?: ISecret;
}

/** Stripe's Amazon EventBridge event destination, as a second way in beside the webhook. */
export interface DunningEventBridgeProps {
  /**
   * The partner event bus Stripe created: the name of the partner event source of your Stripe
   * event destination, e.g. `aws.partner/stripe.com/ed_61…`. It exists once you associate that
   * source with an event bus in the EventBridge console (within 7 days of creating the destination).
   */
  readonly eventBusName: string;
}

/** How Stripe events reach the workflow. Both ways may be on at once: each event is processed once. */
export interface DunningIngestProps {
  /** A public Function URL for the Stripe webhook endpoint. @default true */
  readonly functionUrl?: boolean;
  /**
   * Also take Stripe events from an EventBridge partner event bus: a rule routes the handled event
   * types to a function, with retries and a dead-letter queue. No signature is checked on this path.
   * @default - no EventBridge ingest
   */
  readonly eventBridge?: DunningEventBridgeProps;
}

/** The alarm thresholds you may tune; the watched resources and the topic are the workflow's. */
export type DunningAlarmsOptions = Pick<DunningAlarmsProps, 'signatureRejectionBurst' | 'sesReputation'>;

export interface DunningWorkflowProps {
  /**
   * The policy file: one policy (stages, days, notice copy, end action), or several named policies
   * with the segments that choose between them and `alsoNotify`. Usually `loadPolicySetFile()`; a
   * literal may leave out defaulted fields. Validated again here, so a bad file fails synth naming
   * the field.
   */
  readonly policy: Policy | PolicyInput | PolicySet | PolicySetInput;
  /** Sender, reply-to and SES configuration set of the notices. */
  readonly email: DunningEmailProps;
  /** Existing Stripe secrets. @default - placeholder secrets are created; put the real values after deploy */
  readonly secrets?: DunningSecretsProps;
  /** @default - a webhook Function URL */
  readonly ingest?: DunningIngestProps;
  /**
   * Where the case events for your own systems go (source `stripe-dunning`, docs/events/).
   * @default a new event bus, exported as the stack's `EventBusName` and `EventBusArn`
   */
  readonly eventBus?: IEventBus;
  /** Retention of every function's and the state machine's logs. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /**
   * Receives every alarm (failed or timed-out executions, function errors, needs-attention cases,
   * webhook signature bursts, SES reputation, dead letters). @default - alarms have no action
   */
  readonly alarmTopic?: ITopic;
  /** Tuning of the alarms; see DunningAlarmsProps. */
  readonly alarms?: DunningAlarmsOptions;
  /**
   * What the product allows itself of Stripe's and SES's rate limits, shared by every function; the
   * rest is left to your own systems. Validated at synth. @default - see RequestBudgets
   */
  readonly budget?: RequestBudgets;
  /** The CloudWatch dashboard's name. @default - CloudFormation generates one */
  readonly dashboardName?: string;
  /**
   * Applied to the table, the log groups and any secrets created here. DESTROY suits a throwaway
   * stack; the default keeps the case history and logs. @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Every Lambda of the workflow. */
export interface DunningFunctions {
  readonly handleWebhook: DunningFunction;
  /** Routes the events the webhook queued, in order per customer. */
  readonly routeEvents: DunningFunction;
  readonly sendNotice: DunningFunction;
  readonly retryPayment: DunningFunction;
  readonly closeCase: DunningFunction;
  readonly getNotice: DunningFunction;
  readonly openPaymentLink: DunningFunction;
  /** Records SES events (delivery, bounce, complaint, reject) on the cases. */
  readonly recordEmailEvent: DunningFunction;
  /** Counts the open cases at each stage on a schedule (the `OpenCases` gauge). */
  readonly countOpenCases: DunningFunction;
  /** Flags the case of an execution that failed or timed out (an EventBridge rule invokes it). */
  readonly flagCase: DunningFunction;
  /** Publishes case events from the outbox to the event bus. */
  readonly publishEvents: DunningFunction;
  /** The access API. */
  readonly getAccess: DunningFunction;
}

export class DunningWorkflow extends Construct {
  /** The `default` policy after validation and defaults. */
  readonly policy: Policy;
  /** Every policy, the segments and alsoNotify, validated: exactly what the state machine and functions got. */
  readonly policies: PolicySet;
  readonly table: DunningStore;
  readonly stateMachine: StateMachine;
  readonly secrets: StripeSecrets;
  readonly email: NoticeEmail;
  /** The configuration set's event destination, topic and recorder. */
  readonly emailEvents: EmailEvents;
  readonly functions: DunningFunctions;
  readonly alarms: DunningAlarms;
  readonly dashboard: DunningDashboard;
  /** The Stripe webhook endpoint; undefined when `ingest.functionUrl` is false. */
  readonly webhookUrl?: string;
  /** The My Account notice API (AWS_IAM); grant callers with `grantNoticeApi()`. */
  readonly noticeApiUrl: string;
  /** The access API's base URL (AWS_IAM): GET `${accessApiUrl}customers/{id}/access`. */
  readonly accessApiUrl: string;
  readonly accessApi: AccessApi;
  /** The bus the case events go to. */
  readonly eventBus: IEventBus;
  readonly events: EventPublisher;
  /** Base of the one-click "update payment details" links every notice carries: `${url}u/{token}`. */
  readonly updatePaymentLinkUrl: string;
  readonly updatePaymentLink: UpdatePaymentLink;
  /** The function the EventBridge rule invokes; undefined without `ingest.eventBridge`. */
  readonly eventBridgeFunction?: DunningFunction;
  /**
   * Stripe events from EventBridge that failed every retry, kept 14 days, alarmed on the first
   * message; undefined without `ingest.eventBridge`.
   */
  readonly deadLetterQueue?: IQueue;
  /** The rule, function and dead-letter queue that flag the case of a failed execution. */
  readonly failedExecutions: FailedExecutionFlagger;
  /** The webhook, its event queue and dead-letter queue, and the router behind them. */
  readonly webhook: WebhookIngest;
  private readonly noticeApi: NoticeApi;

  constructor(scope: Construct, id: string, props: DunningWorkflowProps) {
    super(scope, id);
    this.policies = parsePolicySet(props.policy, 'DunningWorkflowProps.policy');
    this.policy = this.policies.policies[DEFAULT_POLICY_NAME]!;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logs = { logRetention: props.logRetention ?? RetentionDays.ONE_MONTH, logRemovalPolicy: removalPolicy };

    this.table = new DunningStore(this, 'Store', { removalPolicy });
    this.secrets = new StripeSecrets(this, 'StripeSecrets', {
      apiKey: props.secrets?.stripeApiKey,
      webhookSigningSecret: props.secrets?.webhookSigningSecret,
      removalPolicy,
    });
    this.email = new NoticeEmail(this, 'Email', props.email);
    this.emailEvents = new EmailEvents(this, 'EmailEvents', {
      configurationSet: this.email.configurationSet,
      table: this.table,
      tracking: props.email.tracking,
      logRetention: logs.logRetention,
      removalPolicy,
    });

    const stages = new StageFunctions(this, 'Stages', {
      ...logs,
      policies: this.policies,
      table: this.table,
      stripeApiKey: this.secrets.apiKey,
      email: this.email,
    });
    // The link function reads the table and Stripe; send-notice only signs links for it. Its URL in
    // send-notice's environment is a one-way reference, so there is no cycle.
    this.updatePaymentLink = new UpdatePaymentLink(this, 'UpdatePaymentLink', {
      ...logs,
      policies: this.policies,
      table: this.table,
      stripeApiKey: this.secrets.apiKey,
      signingKey: props.secrets?.linkSigningKey,
      removalPolicy,
    });
    this.updatePaymentLink.grantIssue(stages.sendNotice);
    this.updatePaymentLinkUrl = this.updatePaymentLink.url;

    const workflow = new DunningStateMachine(this, 'Workflow', { ...logs, policies: this.policies, stages });
    this.stateMachine = workflow.stateMachine;

    // Every function that calls Stripe or sends email counts on the same budget (bound below); the
    // router's intake is bounded by it too.
    const budget = validBudget(props.budget);
    const webhook = (this.webhook = new WebhookIngest(this, 'Webhook', {
      ...logs,
      policies: this.policies,
      table: this.table,
      stateMachine: this.stateMachine,
      stripeApiKey: this.secrets.apiKey,
      webhookSigningSecret: this.secrets.webhookSigningSecret,
      email: this.email,
      functionUrl: props.ingest?.functionUrl,
      stripePerEndpointPerSecond: budget.stripe?.perEndpointPerSecond,
    }));
    this.webhookUrl = webhook.url;
    // The router sends notices too: the pre-dunning heads-up, and the next notice when Stripe's own
    // attempt fails (`retries: "stripe"`). Both carry the short link.
    this.updatePaymentLink.grantIssue(webhook.router);

    const eventBridge = props.ingest?.eventBridge
      ? new EventBridgeIngest(this, 'EventBridge', {
          eventBusName: props.ingest.eventBridge.eventBusName,
          policies: this.policies,
          table: this.table,
          stateMachine: this.stateMachine,
          stripeApiKey: this.secrets.apiKey,
          email: this.email,
          logRetention: logs.logRetention,
          removalPolicy,
        })
      : undefined;
    this.eventBridgeFunction = eventBridge?.handler;
    if (eventBridge) this.updatePaymentLink.grantIssue(eventBridge.handler);
    this.deadLetterQueue = eventBridge?.deadLetterQueue;

    this.failedExecutions = new FailedExecutionFlagger(this, 'FailedExecutions', {
      stateMachine: this.stateMachine,
      table: this.table,
      logRetention: logs.logRetention,
      removalPolicy,
    });

    this.noticeApi = new NoticeApi(this, 'NoticeApi', { ...logs, table: this.table });
    this.noticeApiUrl = this.noticeApi.url;

    const openCases = new OpenCasesGauge(this, 'OpenCases', { ...logs, table: this.table, policies: this.policies });

    this.accessApi = new AccessApi(this, 'AccessApi', { ...logs, table: this.table, policies: this.policies, stripeApiKey: this.secrets.apiKey });
    this.accessApiUrl = this.accessApi.url;
    this.events = new EventPublisher(this, 'Events', { ...logs, table: this.table, eventBus: props.eventBus });
    this.eventBus = this.events.eventBus;

    this.functions = {
      handleWebhook: webhook.handler,
      routeEvents: webhook.router,
      sendNotice: stages.sendNotice,
      retryPayment: stages.retryPayment,
      closeCase: stages.closeCase,
      getNotice: this.noticeApi.handler,
      openPaymentLink: this.updatePaymentLink.handler,
      recordEmailEvent: this.emailEvents.handler,
      countOpenCases: openCases.handler,
      flagCase: this.failedExecutions.handler,
      publishEvents: this.events.handler,
      getAccess: this.accessApi.handler,
    };
    const watched = { ...this.functions, ...(eventBridge ? { handleEventBridge: eventBridge.handler } : {}) };
    for (const fn of [webhook.router, stages.sendNotice, stages.retryPayment, stages.closeCase, this.updatePaymentLink.handler, this.accessApi.handler, eventBridge?.handler]) {
      fn?.bindRequestBudget(this.table, budget);
    }
    const deadLetterQueues: Record<string, IQueue> = {
      webhookEvents: webhook.deadLetterQueue,
      emailEvents: this.emailEvents.deadLetterQueue,
      failedExecutions: this.failedExecutions.deadLetterQueue,
      ...(eventBridge ? { eventBridge: eventBridge.deadLetterQueue } : {}),
    };
    this.alarms = new DunningAlarms(this, 'Alarms', {
      ...props.alarms,
      stateMachine: this.stateMachine,
      functions: watched,
      deadLetterQueues,
      topic: props.alarmTopic,
    });
    this.dashboard = new DunningDashboard(this, 'Dashboard', {
      policy: this.policy,
      stateMachine: this.stateMachine,
      functions: watched,
      deadLetterQueues,
      alarms: this.alarms.all,
      dashboardName: props.dashboardName,
      openCases: { stages: openCaseStages(this.policies), period: openCases.interval },
    });

    // On the workflow, not the stack, so a template that embeds it lints clean in any app.
    Aspects.of(this).add(new NoRedundantDependsOn(), { priority: AspectPriority.MUTATING });
  }

  /**
   * What the operator CLI (`npx dunning`) needs, for an operator's role or group: the stack's outputs,
   * the table, the Stripe API key and link signing key, sending the thank-you of a paid `retry-now`,
   * its metrics, and stopping, describing and redriving (`states:RedriveExecution`) the executions.
   */
  grantOperator(grantee: IGrantable): void {
    this.table.grantReadWriteData(grantee);
    this.secrets.apiKey.grantRead(grantee);
    this.updatePaymentLink.signingKey.grantRead(grantee);
    Grant.addToPrincipal({
      grantee,
      actions: ['ses:SendEmail'],
      resourceArns: [...this.email.identityArns, this.email.configurationSetArn],
      conditions: { StringEquals: { 'ses:FromAddress': this.email.senderAddress } },
    });
    this.stateMachine.grantExecution(grantee, 'states:StopExecution', 'states:DescribeExecution', 'states:GetExecutionHistory', 'states:RedriveExecution');
    Grant.addToPrincipal({ grantee, actions: ['cloudformation:DescribeStacks'], resourceArns: [Stack.of(this).stackId] });
    // PutMetricData has no resource-level permissions; the namespace condition is what scopes it.
    Grant.addToPrincipal({
      grantee,
      actions: ['cloudwatch:PutMetricData'],
      resourceArns: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
    });
  }

  /** Lets the company's backend call the notice API (SigV4, service `lambda`). */
  grantNoticeApi(grantee: IGrantable): Grant {
    return this.noticeApi.grantInvoke(grantee);
  }

  /** Lets the company's app call the access API (SigV4, service `lambda`). */
  grantAccessApi(grantee: IGrantable): Grant {
    return this.accessApi.grantInvoke(grantee);
  }
}

/** Refuses a budget no function could run with, naming the field (synth fails before a deploy). */
function validBudget(budget: RequestBudgets | undefined): RequestBudgets {
  if (!budget) return {};
  const positive = (value: number | undefined, name: string) => {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new Error(`budget.${name} must be a number above 0, not ${value}`);
  };
  positive(budget.stripe?.perSecond, 'stripe.perSecond');
  positive(budget.stripe?.perEndpointPerSecond, 'stripe.perEndpointPerSecond');
  positive(budget.emailsPerSecond, 'emailsPerSecond');
  if (budget.stripe?.perEndpointPerSecond !== undefined && budget.stripe.perEndpointPerSecond > budget.stripe.perSecond) {
    throw new Error(`budget.stripe.perEndpointPerSecond (${budget.stripe.perEndpointPerSecond}) cannot be above budget.stripe.perSecond (${budget.stripe.perSecond})`);
  }
  return budget;
}
