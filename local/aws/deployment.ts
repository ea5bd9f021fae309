// The stack as `cdk deploy` would create it, read for the local runtime: the same DunningStack is
// synthesized in-process (bundling skipped: the local runtime runs the sources), and each function's
// environment, timeout, memory and IAM policy, the state machine's definition and role, and the
// alarms are taken from that template, with local names and ARNs in place of CloudFormation's.
//
// Synthesizing, rather than keeping a second description of each function beside its construct,
// means a grant or a variable a construct forgets is missing locally too: the local runtime cannot
// be kinder than AWS about configuration, because it has no configuration of its own.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DunningFunctionName, RequestBudgets } from '#infra/constructs/dunning-function.ts';
import { LOCAL_REGION } from '#shared/adapters/aws-clients.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import type { StateMachineDefinition } from '#shared/workflow/definition.ts';
import { atLocalOrigin } from '../local-origin.ts';
import { Intrinsics, UnresolvableError, type LocalResource, type Template } from './intrinsics.ts';
import { cachedSynthesis, STACK_NAME, type Synthesis } from './synthesis.ts';
import type { LocalQueueSpec } from './sqs.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The region the local services answer in (the SDK clients' own default for loopback). */
export { LOCAL_REGION };
export const LOCAL_ACCOUNT = '000000000000';

/** An IAM policy document as it appears in the template, resolved. */
export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatementJson[];
}

export interface PolicyStatementJson {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export interface RoleSpec {
  logicalId: string;
  arn: string;
  /** The role's inline policies and the AWS::IAM::Policy resources attached to it. */
  policies: Array<{ name: string; document: PolicyDocument }>;
}

export interface FunctionSpec {
  /** The folder under functions/: send-notice, handle-webhook, … */
  name: DunningFunctionName;
  logicalId: string;
  /** Its local physical name, which is also `name`. */
  functionName: string;
  arn: string;
  /** The handler's source file, run in the function's own worker. */
  entry: string;
  /** The template's `Environment.Variables`, resolved: nothing more, nothing less. */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memorySize: number;
  role: RoleSpec;
  /** The policy file CDK compiles into this function's bundle (esbuild define); undefined when none. */
  bundledPolicyJson?: string;
  /** Its Function URL's auth type, when it has one. */
  url?: { authType: 'NONE' | 'AWS_IAM' };
  /** How Lambda treats its asynchronous invocations (EventInvokeConfig): retries, then the failure destination. */
  asyncInvoke: { retryAttempts: number; onFailureQueue?: string; onFailureQueueArn?: string };
  /** The log group Lambda writes its output to, with the function's role (LoggingConfig). */
  logGroup: { name: string; arn: string };
}

export interface AlarmSpec {
  /** The alarm's construct id, the name the README's runbook uses: `NeedsAttention`, `SendNoticeErrors`. */
  id: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  statistic: string;
  threshold: number;
  comparisonOperator: string;
}

export interface LocalDeployment {
  /** The synthesized template (after any test transform), unresolved. */
  template: Template;
  functions: ReadonlyMap<DunningFunctionName, FunctionSpec>;
  stateMachine: { arn: string; name: string; definition: StateMachineDefinition; role: RoleSpec };
  /** The ARNs of the three secrets the functions read. */
  secrets: { stripeApiKey: string; webhookSigningSecret: string; linkSigningKey: string };
  table: { name: string; arn: string };
  /** The stack's own event buses (AWS::Events::EventBus), which the local EventBridge creates. */
  eventBuses: ReadonlyArray<{ logicalId: string; name: string; arn: string }>;
  alarms: readonly AlarmSpec[];
  /** The stack's SQS queues, with their FIFO setting, visibility timeout and redrive policy. */
  queues: readonly LocalQueueSpec[];
  /** The event source mappings from a queue to a function (AWS::Lambda::EventSourceMapping). */
  queueMappings: ReadonlyArray<{ queueArn: string; functionName: DunningFunctionName; batchSize: number; reportBatchItemFailures: boolean }>;
  region: string;
  account: string;
}

export interface LocalDeploymentOptions {
  policies: PolicySet;
  sender: string;
  replyTo?: readonly string[];
  tableName: string;
  /** The local state machine's name; its ARN is built from it. */
  stateMachineName: string;
  /** Where the runtime serves every Function URL (they share one local port). */
  functionUrlBase: string;
  /**
   * Where the runtime answers, when it is not the default local origin: the policy each function
   * bundles has its local URLs moved there (see atLocalOrigin). Only the bundled copy changes, after
   * the synthesis: the template does not depend on it, so a runtime on a free port reuses the cache.
   */
  localOrigin?: string;
  /** Deploy the EventBridge ingest too (handle-eventbridge). */
  eventBridgeBusName?: string;
  /** DUNNING_STRIPE_BUDGET / DUNNING_EMAIL_BUDGET, as `cdk deploy` takes them. */
  budget?: RequestBudgets;
  /**
   * Changes the template before it is read: for tests that take a grant away, as a mistaken
   * construct would, and watch AWS refuse the call.
   */
  transformTemplate?: (template: Template) => void;
}

/** Synthesizes the stack (or reuses an identical synthesis) and reads what the local runtime needs from it. */
export async function describeDeployment(options: LocalDeploymentOptions): Promise<LocalDeployment> {
  const synthesis = await cachedSynthesis(options);
  const template = structuredClone(synthesis.template);
  options.transformTemplate?.(template);
  return read(synthesis, template, options);
}

function read(synthesis: Synthesis, template: Template, options: LocalDeploymentOptions): LocalDeployment {
  const region = LOCAL_REGION;
  const account = LOCAL_ACCOUNT;
  const functionsById = new Map(synthesis.functions.map((fn) => [fn.logicalId, fn]));
  const stateMachineArn = `arn:aws:states:${region}:${account}:stateMachine:${options.stateMachineName}`;
  const stateMachineId = synthesis.stateMachineId;
  const resources = localResources(template, { region, account, functionsById, stateMachineId, stateMachineArn, ...options });
  const intrinsics = new Intrinsics(template, resources, { region, account, stackName: STACK_NAME });

  const urls = new Map<string, 'NONE' | 'AWS_IAM'>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Url') continue;
    const target = resource.Properties?.TargetFunctionArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const id = target?.['Fn::GetAtt']?.[0];
    if (id) urls.set(id, resource.Properties?.AuthType as 'NONE' | 'AWS_IAM');
  }

  const asyncConfigs = new Map<string, FunctionSpec['asyncInvoke']>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::EventInvokeConfig') continue;
    const properties = resource.Properties ?? {};
    const id = (properties.FunctionName as { Ref?: string } | undefined)?.Ref;
    const destination = (properties.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination;
    const queueId = (destination as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
    if (id) {
      asyncConfigs.set(id, {
        retryAttempts: Number(properties.MaximumRetryAttempts ?? 2),
        onFailureQueue: queueId ? intrinsics.string({ 'Fn::GetAtt': [queueId, 'QueueName'] }, 'on-failure queue') : undefined,
        onFailureQueueArn: queueId ? intrinsics.string({ 'Fn::GetAtt': [queueId, 'Arn'] }, 'on-failure queue') : undefined,
      });
    }
  }

  const functions = new Map<DunningFunctionName, FunctionSpec>();
  for (const [id, fn] of functionsById) {
    const resource = template.Resources[id];
    if (!resource) continue; // taken out of the template by a test: the function is not deployed
    const properties = resource.Properties ?? {};
    const variables = ((properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
    const environment: Record<string, string> = {};
    for (const [name, value] of Object.entries(variables)) environment[name] = intrinsics.string(value, `${fn.name}: ${name}`);
    const logGroupRef = (properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
    const logGroupName = logGroupRef ? intrinsics.string(logGroupRef, `${fn.name}: LoggingConfig.LogGroup`) : `/aws/lambda/${fn.name}`;
    functions.set(fn.name, {
      name: fn.name,
      logicalId: id,
      functionName: fn.name,
      arn: functionArn(region, account, fn.name),
      entry: `${PROJECT_ROOT}functions/${fn.name}/handler.ts`,
      environment,
      timeoutSeconds: Number(properties.Timeout ?? 3),
      memorySize: Number(properties.MemorySize ?? 128),
      role: roleSpec(template, intrinsics, roleIdOf(properties.Role, `${fn.name}: Role`)),
      bundledPolicyJson: bundledPolicyAt(fn.bundledPolicyJson, options.localOrigin),
      url: urls.has(id) ? { authType: urls.get(id)! } : undefined,
      // Lambda's default for asynchronous invocations: two retries, then the event is dropped.
      asyncInvoke: asyncConfigs.get(id) ?? { retryAttempts: 2 },
      logGroup: { name: logGroupName, arn: `arn:aws:logs:${region}:${account}:log-group:${logGroupName}` },
    });
  }

  const machine = template.Resources[stateMachineId]!.Properties ?? {};
  const definition = JSON.parse(intrinsics.string(machine.DefinitionString, 'state machine DefinitionString')) as StateMachineDefinition;
  const secretArn = (ref: unknown, what: string) => intrinsics.string(ref, what);

  return {
    template,
    functions,
    stateMachine: {
      arn: stateMachineArn,
      name: options.stateMachineName,
      definition,
      role: roleSpec(template, intrinsics, roleIdOf(machine.RoleArn, 'state machine RoleArn')),
    },
    secrets: {
      stripeApiKey: secretArn(synthesis.secrets.stripeApiKey, 'the Stripe API key secret'),
      webhookSigningSecret: secretArn(synthesis.secrets.webhookSigningSecret, 'the webhook signing secret'),
      linkSigningKey: secretArn(synthesis.secrets.linkSigningKey, 'the link signing key'),
    },
    table: { name: options.tableName, arn: tableArn(region, account, options.tableName) },
    eventBuses: Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::Events::EventBus')
      .map(([id]) => {
        const name = eventBusName(template, id);
        return { logicalId: id, name, arn: eventBusArn(region, account, name) };
      }),
    alarms: alarmSpecs(synthesis, template, intrinsics),
    queues: queueSpecs(template, intrinsics),
    queueMappings: Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::Lambda::EventSourceMapping')
      .flatMap((resource) => {
        const properties = resource.Properties ?? {};
        const fnId = (properties.FunctionName as { Ref?: string } | undefined)?.Ref;
        const fn = fnId ? functionsById.get(fnId) : undefined;
        const source = intrinsics.string(properties.EventSourceArn, 'event source mapping: EventSourceArn');
        if (!fn || !functions.has(fn.name) || !source.startsWith('arn:aws:sqs:')) return [];
        return [
          {
            queueArn: source,
            functionName: fn.name,
            batchSize: Number(properties.BatchSize ?? 10),
            reportBatchItemFailures: ((properties.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
          },
        ];
      }),
    region,
    account,
  };
}

/** Each AWS::SQS::Queue as the local SQS keeps it. */
function queueSpecs(template: Template, intrinsics: Intrinsics): LocalQueueSpec[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::SQS::Queue')
    .map(([id, resource]) => {
      const properties = resource.Properties ?? {};
      const redrive = properties.RedrivePolicy as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
      return {
        name: intrinsics.string({ 'Fn::GetAtt': [id, 'QueueName'] }, `queue ${id}`),
        arn: intrinsics.string({ 'Fn::GetAtt': [id, 'Arn'] }, `queue ${id}`),
        url: intrinsics.string({ Ref: id }, `queue ${id}`),
        fifo: properties.FifoQueue === true || properties.FifoQueue === 'true',
        // SQS's default visibility timeout is 30 seconds.
        visibilityTimeoutSeconds: Number(properties.VisibilityTimeout ?? 30),
        redrive: redrive?.deadLetterTargetArn
          ? { deadLetterTargetArn: intrinsics.string(redrive.deadLetterTargetArn, `queue ${id}: RedrivePolicy`), maxReceiveCount: Number(redrive.maxReceiveCount ?? 10) }
          : undefined,
      };
    });
}

export function functionArn(region: string, account: string, name: string): string {
  return `arn:aws:lambda:${region}:${account}:function:${name}`;
}

function tableArn(region: string, account: string, name: string): string {
  return `arn:aws:dynamodb:${region}:${account}:table/${name}`;
}

export function eventBusArn(region: string, account: string, name: string): string {
  return `arn:aws:events:${region}:${account}:event-bus/${name}`;
}

/**
 * An event bus's name: its `Name` as the template writes it (CDK always writes one, generated when
 * the construct names none), or its logical id when the name is not a plain string.
 */
function eventBusName(template: Template, id: string): string {
  const name = template.Resources[id]?.Properties?.Name;
  return typeof name === 'string' && name !== '' ? name : id;
}

/** `{ "Fn::GetAtt": ["<Role>", "Arn"] }` → the role's logical id. */
function roleIdOf(value: unknown, where: string): string {
  const id = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
  if (!id) throw new UnresolvableError(`${where}: expected a role of this stack, got ${JSON.stringify(value)}`);
  return id;
}

function roleSpec(template: Template, intrinsics: Intrinsics, roleId: string): RoleSpec {
  const role = template.Resources[roleId];
  if (!role) throw new UnresolvableError(`no role ${roleId} in the template`);
  const properties = role.Properties ?? {};
  if (Array.isArray(properties.ManagedPolicyArns) && properties.ManagedPolicyArns.length > 0) {
    // A managed policy's document is not in the template: the local runtime could not enforce it.
    throw new UnresolvableError(`role ${roleId} has managed policies, which the local runtime cannot evaluate`);
  }
  const policies: RoleSpec['policies'] = [];
  for (const inline of (properties.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }> | undefined) ?? []) {
    policies.push({ name: inline.PolicyName, document: intrinsics.resolve(inline.PolicyDocument) as PolicyDocument });
  }
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = (resource.Properties?.Roles as Array<{ Ref?: string }> | undefined) ?? [];
    if (!roles.some((r) => r.Ref === roleId)) continue;
    policies.push({ name: String(resource.Properties?.PolicyName ?? id), document: intrinsics.resolve(resource.Properties?.PolicyDocument) as PolicyDocument });
  }
  return { logicalId: roleId, arn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${roleId}`, policies };
}

/**
 * What each resource of the template is locally: the names and ARNs the stand-ins answer to.
 * A resource type not listed here has no local stand-in, and a value that needs one fails naming it.
 */
function localResources(
  template: Template,
  context: LocalDeploymentOptions & {
    region: string;
    account: string;
    functionsById: ReadonlyMap<string, { name: DunningFunctionName }>;
    stateMachineId: string;
    stateMachineArn: string;
  },
): (logicalId: string) => LocalResource | undefined {
  const { region, account } = context;
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${account}:${resource}`;
  return (id): LocalResource | undefined => {
    const type = template.Resources[id]?.Type;
    switch (type) {
      case 'AWS::DynamoDB::Table':
        return { ref: context.tableName, attributes: { Arn: tableArn(region, account, context.tableName), StreamArn: `${tableArn(region, account, context.tableName)}/stream/local` } };
      case 'AWS::SecretsManager::Secret': {
        // Secrets Manager appends six random characters to a secret's name in its ARN.
        const suffix = createHash('sha256').update(id).digest('base64url').replace(/[^A-Za-z0-9]/g, '').slice(0, 6);
        return { ref: arn('secretsmanager', `secret:${id}-${suffix}`) };
      }
      case 'AWS::Lambda::Function': {
        const name = context.functionsById.get(id)?.name ?? id;
        return { ref: name, attributes: { Arn: functionArn(region, account, name) } };
      }
      case 'AWS::Lambda::Url':
        return { ref: id, attributes: { FunctionUrl: `${context.functionUrlBase.replace(/\/$/, '')}/` } };
      case 'AWS::StepFunctions::StateMachine':
        return id === context.stateMachineId
          ? { ref: context.stateMachineArn, attributes: { Arn: context.stateMachineArn, Name: context.stateMachineName } }
          : undefined;
      case 'AWS::IAM::Role':
        return { ref: id, attributes: { Arn: `arn:aws:iam::${account}:role/${id}`, RoleId: `AROA${id.slice(0, 16).toUpperCase()}` } };
      case 'AWS::Logs::LogGroup': {
        const name = `/dunning-local/${id}`;
        return { ref: name, attributes: { Arn: arn('logs', `log-group:${name}:*`) } };
      }
      case 'AWS::SES::ConfigurationSet':
        return { ref: `dunning-local-${id}` };
      case 'AWS::SNS::Topic':
        return { ref: arn('sns', id), attributes: { TopicArn: arn('sns', id), TopicName: id } };
      case 'AWS::SQS::Queue':
        return {
          ref: `https://sqs.${region}.amazonaws.com/${account}/${id}`,
          attributes: { Arn: arn('sqs', id), QueueName: id, QueueUrl: `https://sqs.${region}.amazonaws.com/${account}/${id}` },
        };
      case 'AWS::KMS::Key':
        return { ref: id, attributes: { Arn: arn('kms', `key/${id}`), KeyId: id } };
      case 'AWS::Events::EventBus': {
        // Ref is the bus's name, as in CloudFormation.
        const name = eventBusName(template, id);
        return { ref: name, attributes: { Arn: eventBusArn(region, account, name), Name: name } };
      }
      case 'AWS::Events::Rule':
        return { ref: id, attributes: { Arn: arn('events', `rule/${id}`) } };
      case 'AWS::CloudWatch::Alarm':
        return { ref: id, attributes: { Arn: arn('cloudwatch', `alarm:${id}`) } };
      default:
        return undefined;
    }
  };
}

function alarmSpecs(synthesis: Synthesis, template: Template, intrinsics: Intrinsics): AlarmSpec[] {
  return synthesis.alarms.flatMap(({ id, logicalId }) => {
    const properties = template.Resources[logicalId]?.Properties;
    if (!properties) return [];
    const dimensions: Record<string, string> = {};
    for (const dimension of (properties.Dimensions as Array<{ Name: string; Value: unknown }> | undefined) ?? []) {
      dimensions[dimension.Name] = intrinsics.string(dimension.Value, `alarm ${id}: dimension ${dimension.Name}`);
    }
    return [
      {
        id,
        namespace: String(properties.Namespace),
        metricName: String(properties.MetricName),
        dimensions,
        statistic: String(properties.Statistic ?? 'Sum'),
        threshold: Number(properties.Threshold),
        comparisonOperator: String(properties.ComparisonOperator),
      },
    ];
  });
}

/** The policy a function bundles, with its local URLs at the runtime's origin. */
function bundledPolicyAt(json: string | undefined, origin: string | undefined): string | undefined {
  if (json === undefined || origin === undefined) return json;
  return JSON.stringify(atLocalOrigin(JSON.parse(json) as PolicySet, origin));
}
