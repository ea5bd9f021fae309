// The deployable stack: the DunningWorkflow and the topic its alarms go to, plus the cdk-nag findings
// this design accepts, each acknowledged on the narrowest construct with the reason it is accepted.
import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { OPERATOR_OUTPUTS, policyDigest } from '#shared/operator-outputs.ts';
import { Policy, type IRole } from 'aws-cdk-lib/aws-iam';
import { Runtime, RuntimeFamily } from 'aws-cdk-lib/aws-lambda';
// cdk-nag's own rendering of a CloudFormation reference into a finding id (not re-exported at the root).
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { Construct } from 'constructs';
import { AlarmTopic } from '../constructs/alarm-topic.ts';
import { DunningWorkflow, type DunningWorkflowProps } from '../dunning-workflow.ts';
import { DUNNING_RUNTIME } from '../constructs/dunning-function.ts';

export interface DunningStackProps extends StackProps {
  /** Everything the workflow needs; see DunningWorkflowProps. */
  readonly dunning: DunningWorkflowProps;
  /**
   * Subscribed by email to the alarm topic the stack creates (`-c alarmEmail=…`). Ignored when
   * `dunning.alarmTopic` is given. @default - the topic has no subscription
   */
  readonly alarmEmail?: string;
}

export class DunningStack extends Stack {
  readonly dunning: DunningWorkflow;
  /** The encrypted topic every alarm goes to; undefined when `dunning.alarmTopic` was given. */
  readonly alarmTopic?: AlarmTopic;

  constructor(scope: Construct, id: string, props: DunningStackProps) {
    super(scope, id, props);
    this.alarmTopic = props.dunning.alarmTopic
      ? undefined
      : new AlarmTopic(this, 'Alarms', { email: props.alarmEmail, removalPolicy: props.dunning.removalPolicy });
    this.dunning = new DunningWorkflow(this, 'Dunning', {
      ...props.dunning,
      alarmTopic: props.dunning.alarmTopic ?? this.alarmTopic?.topic,
    });
    acknowledgeNagFindings(this.dunning);
    addOperatorOutputs(this, this.dunning);
    if (this.alarmTopic) {
      new CfnOutput(this, OPERATOR_OUTPUTS.alarmTopicArn, { value: this.alarmTopic.topic.topicArn, description: 'Operator CLI: the alarm topic, whose subscription dunning doctor checks' });
    }
    // The bus your rules match case events on (source stripe-dunning), for other stacks and apps.
    new CfnOutput(this, 'EventBusName', { value: this.dunning.eventBus.eventBusName, description: 'Case events for your systems: source stripe-dunning', exportName: `${this.stackName}-EventBusName` });
    new CfnOutput(this, 'EventBusArn', { value: this.dunning.eventBus.eventBusArn, description: 'Case events for your systems: source stripe-dunning', exportName: `${this.stackName}-EventBusArn` });
  }
}

/**
 * What the operator CLI (`npx dunning`) needs to act as the functions do, under fixed output names.
 * Nothing here is secret: the secrets are named by ARN and read with the operator's own credentials.
 */
function addOperatorOutputs(stack: Stack, dunning: DunningWorkflow): void {
  const out = (name: string, value: string, description: string) => new CfnOutput(stack, name, { value, description });
  out(OPERATOR_OUTPUTS.tableName, dunning.table.tableName, 'Operator CLI: the cases table');
  out(OPERATOR_OUTPUTS.stateMachineArn, dunning.stateMachine.stateMachineArn, 'Operator CLI: the dunning state machine');
  out(OPERATOR_OUTPUTS.stripeApiKeySecretArn, dunning.secrets.apiKey.secretArn, 'Operator CLI: the Stripe API key secret');
  out(OPERATOR_OUTPUTS.linkSigningKeySecretArn, dunning.updatePaymentLink.signingKey.secretArn, 'Operator CLI: the link signing key secret');
  out(OPERATOR_OUTPUTS.webhookSigningSecretArn, dunning.secrets.webhookSigningSecret.secretArn, 'Operator CLI: the webhook signing secret, which dunning connect sets');
  if (dunning.webhookUrl) out(OPERATOR_OUTPUTS.webhookUrl, dunning.webhookUrl, 'Operator CLI: the Stripe webhook endpoint URL, which dunning connect registers');
  out(OPERATOR_OUTPUTS.linkBaseUrl, dunning.updatePaymentLinkUrl, 'Operator CLI: where the update-payment links point');
  out(OPERATOR_OUTPUTS.sender, dunning.email.sender, 'Operator CLI: the From address');
  if (dunning.email.replyTo.length > 0) out(OPERATOR_OUTPUTS.replyTo, dunning.email.replyTo.join(','), 'Operator CLI: Reply-To addresses');
  out(OPERATOR_OUTPUTS.configurationSet, dunning.email.configurationSet.configurationSetName, 'Operator CLI: the SES configuration set');
  out(OPERATOR_OUTPUTS.policySha256, policyDigest(dunning.policies), 'Operator CLI: SHA-256 of the deployed policy');
}

/**
 * The AwsSolutions findings DunningWorkflow accepts, and why. Exported so a stack of your own that
 * embeds the workflow and runs cdk-nag can acknowledge the same findings.
 */
export function acknowledgeNagFindings(dunning: DunningWorkflow): void {
  const xray = {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so AWS requires Resource "*".',
  };
  for (const fn of [...Object.values(dunning.functions), dunning.eventBridgeFunction]) {
    // Per role, not per stack. The finding id cannot tell X-Ray's "*" from any other, so the infra
    // tests assert that only xray:/logs: actions ever sit on "*".
    if (fn?.role) Validations.of(fn.role).acknowledge(xray);
  }

  if (dunning.stateMachine.role) {
    Validations.of(dunning.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions logging to CloudWatch Logs (logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, ...) and X-Ray tracing: these actions support no resource-level permissions, so AWS requires Resource "*".',
    });
  }

  // Both ingest paths (the webhook, and EventBridge when enabled) route events the same way.
  for (const ingestRole of [dunning.functions.routeEvents.role, dunning.eventBridgeFunction?.role]) {
    if (!ingestRole) continue;
    for (const resource of wildcardResources(ingestRole, 'states:StopExecution')) {
      Validations.of(ingestRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          'The router (route-events behind the webhook, or handle-eventbridge) stops (and describes) the running execution of an invoice that got paid; execution names are per invoice, known only at runtime, so the grant covers the executions of this one state machine (execution:<name>:*).',
      });
    }
  }

  const flagRole = dunning.functions.flagCase.role;
  if (flagRole) {
    for (const resource of wildcardResources(flagRole, 'states:DescribeExecution')) {
      Validations.of(flagRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason:
          'flag-case describes the failed execution and reads its history (the state that failed); execution names are per invoice, known only at runtime, so the grant covers the executions of this one state machine (execution:<name>:*), read-only.',
      });
    }
  }
  Validations.of(dunning.failedExecutions.deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue IS the dead-letter queue: of the failed-execution rule target and of the failed asynchronous invocations of flag-case. A DLQ for it would just move the same events again.',
  });

  if (dunning.deadLetterQueue) {
    Validations.of(dunning.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue IS the dead-letter queue: of the EventBridge rule target and of the failed asynchronous invocations of handle-eventbridge. cdk-nag recognises only queue redrive and Lambda DeadLetterConfig as DLQ use; a DLQ for this queue would just move the same events again.',
    });
  }

  if (dunning.updatePaymentLink.generatedSigningKey) {
    Validations.of(dunning.updatePaymentLink.generatedSigningKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The link signing key signs the update-payment links in emails customers read for up to 30 days; an automatic rotation would break every link already sent. It is random, never leaves Secrets Manager and the functions that sign or check links, and is replaced by hand (put-secret-value) if ever exposed.',
    });
  }
  Validations.of(dunning.webhook.deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      "This queue IS the dead-letter queue of the webhook's event queue (its redrive target). A DLQ for it would just move the same events again.",
  });
  Validations.of(dunning.emailEvents.deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue IS the dead-letter queue: of the SES events topic subscription and of the failed asynchronous invocations of record-email-event. A DLQ for it would just move the same messages again.',
  });

  // AwsSolutions-L1 asks for the newest Node.js runtime the app's own aws-cdk-lib knows. An app on a
  // newer aws-cdk-lib than ours knows one the functions were never run on: they stay on theirs.
  const newer = newerNodeRuntimes();
  if (newer.length > 0) {
    for (const fn of [...Object.values(dunning.functions), dunning.eventBridgeFunction]) {
      if (!fn) continue;
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-L1',
        reason: `The functions run on ${DUNNING_RUNTIME.name}, the runtime this release is built for (ES modules, esbuild's target) and tested on; ${newer.join(', ')} comes with a release of the package that is tested on it, not with the app's aws-cdk-lib.`,
      });
    }
  }

  Validations.of(dunning.secrets).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'Stripe keys and webhook signing secrets are rolled in the Stripe dashboard, which Secrets Manager cannot drive; the new value is then stored with put-secret-value (see README). A rotation Lambda would only break the live key.',
  });
}

/**
 * The wildcard resources of `role`'s statements that allow `action`, rendered the way cdk-nag names
 * its findings. Read from the policy the grant actually produced, so an acknowledgement can never
 * cover more than that grant, nor silently stop matching it.
 */
function wildcardResources(role: IRole, action: string): string[] {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!(policy instanceof Policy)) return [];
  const document = Stack.of(role).resolve(policy.document) as { Statement?: PolicyJsonStatement[] };
  return (document.Statement ?? [])
    .filter((statement) => [statement.Action].flat().includes(action))
    .flatMap((statement) => [statement.Resource].flat())
    .map((resource) => flattenCfnReference(resource))
    .filter((resource) => resource.includes('*'));
}

/** Node.js runtimes the installed aws-cdk-lib knows that are newer than the one the functions use. */
export function newerNodeRuntimes(known: readonly Runtime[] = Runtime.ALL, ours: Runtime = DUNNING_RUNTIME): string[] {
  const major = (runtime: Runtime) => Number(/^nodejs(\d+)/.exec(runtime.name)?.[1] ?? Number.NaN);
  return known.filter((runtime) => runtime.family === RuntimeFamily.NODEJS && major(runtime) > major(ours)).map((runtime) => runtime.name);
}

interface PolicyJsonStatement {
  Action?: string | string[];
  Resource?: unknown;
}
