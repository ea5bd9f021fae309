// The functions as Lambda runs them, locally: each in worker threads with its synthesized environment
// and its role's credentials, its logs and failure destination written only as its role allows, and
// the state machine's Tasks invoking them as the state machine's role, which IAM must allow.
import { randomUUID } from 'node:crypto';
import { ENV } from '#shared/config.ts';
import { taskStates, type StateMachineDefinition } from '#shared/workflow/definition.ts';
import type { LocalMetrics } from './aws/cloudwatch.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, type FunctionSpec, type LocalDeployment } from './aws/deployment.ts';
import type { IamEvaluator, IamPrincipal } from './aws/iam.ts';
import type { IamGateway, RoleCredentials } from './aws/iam-gateway.ts';
import type { IamUsage } from './aws/iam-usage.ts';
import { FunctionError, LocalLambda, type FunctionLogLine } from './aws/lambda.ts';
import type { TaskHandler } from './stepfunctions.ts';

export interface TaskEvent {
  /** The policy stage id, or the close-case action (recover, terminate). */
  state: string;
  input: unknown;
  output?: unknown;
  error?: Error;
  /** How long the handler ran (the Lambda's billed duration, before rounding); the bench's cost model reads it. */
  durationMs: number;
}

export interface FunctionHostOptions {
  deployment: LocalDeployment;
  evaluator: IamEvaluator;
  iamUsage: IamUsage;
  gateway: IamGateway;
  /** Each function's role credentials, filled in as its first container starts. */
  credentials: Map<string, RoleCredentials>;
  metrics: LocalMetrics;
  maxContainers?: number;
  /** The Stripe sandbox's URL, when the functions call it instead of Stripe; per function when a tap counts their requests. */
  stripeApiBase?: string | ((functionName: string) => string);
  /** How long a policy day lasts here (DUNNING_DAY_MS): the functions' case clock is compressed to it. */
  dayMs?: number;
  onFunctionLog?: (line: FunctionLogLine) => void;
}

/** Starts no container yet: each function's first invocation does. */
export function hostFunctions(options: FunctionHostOptions): LocalLambda {
  const { deployment, evaluator, iamUsage, gateway, credentials, metrics } = options;
  const principalOf = (spec: FunctionSpec): IamPrincipal => ({
    name: spec.name,
    sessionArn: `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${spec.role.logicalId}/${spec.functionName}`,
    policies: spec.role.policies,
  });
  /** Lambda acts with the function's role on its behalf (its logs, its failure destination): IAM decides. */
  const actAs = async (spec: FunctionSpec, requests: Array<{ action: string; resource: string }>, what: string): Promise<boolean> => {
    const principal = principalOf(spec);
    const decision = await evaluator.authorize(principal, requests);
    if (decision.allowed) {
      for (const request of requests) iamUsage.allowed(principal.name, request.action);
      return true;
    }
    iamUsage.denied(principal.name, requests[0]!.action, decision.message);
    console.error(`${spec.functionName}: ${what}: ${decision.message}`);
    return false;
  };
  return new LocalLambda({
    functions: deployment.functions,
    maxContainers: options.maxContainers,
    metrics,
    runtimeEnvironment: (spec) => {
      let role = credentials.get(spec.name);
      if (!role) {
        role = gateway.credentialsFor(principalOf(spec));
        credentials.set(spec.name, role);
      }
      const stripeApiBase = typeof options.stripeApiBase === 'function' ? options.stripeApiBase(spec.name) : options.stripeApiBase;
      return lambdaEnvironment(spec, role, gateway.endpoint, stripeApiBase, options.dayMs);
    },
    mayWriteLogs: (spec, stream) => {
      const streamArn = `${spec.logGroup.arn}:log-stream:${stream}`;
      return actAs(
        spec,
        [
          { action: 'logs:CreateLogStream', resource: streamArn },
          { action: 'logs:PutLogEvents', resource: streamArn },
        ],
        'its logs are lost: Lambda cannot write its log group with its role',
      );
    },
    onLog: (line) => {
      options.onFunctionLog?.(line);
      printFunctionLog(line);
    },
    onDeadLetter: ({ spec, error }) => {
      const { onFailureQueue: queue, onFailureQueueArn: queueArn } = spec.asyncInvoke;
      void (async () => {
        // Lambda sends the failure record to the destination with the function's role, then the
        // message waits in the dead-letter queue (alarmed).
        const sent = queue && queueArn ? await actAs(spec, [{ action: 'sqs:SendMessage', resource: queueArn }], 'its failed event is lost') : false;
        if (sent) metrics.put({ namespace: 'AWS/SQS', name: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: queue! }, value: 1 });
        console.error(`${spec.functionName}: asynchronous invocation failed every retry${sent ? `; kept in ${queue}` : ''}: ${error.name}: ${error.message}`);
      })();
    },
  });
}

/**
 * A Task result as the Wait after it reads it, once an `onTask` observer held it for `heldMs`: the
 * moment the stage gave (`waitUntil`) moves by as long, so time the observer took (a test acting
 * "between a stage and the wait after it") is not taken from the wait. In AWS nothing holds a Task.
 */
function afterHold(output: unknown, heldMs: number): unknown {
  const waitUntil = (output as { waitUntil?: unknown } | null)?.waitUntil;
  if (heldMs < 1 || typeof waitUntil !== 'string' || Number.isNaN(Date.parse(waitUntil))) return output;
  return { ...(output as object), waitUntil: new Date(Date.parse(waitUntil) + heldMs).toISOString() };
}

/**
 * The state machine's Task handlers, one per function its definition invokes. A Task invokes its
 * function as the state machine's role, which IAM must allow. `lambda` is read at each invocation:
 * the state machine starts before the functions can (they need its endpoint).
 */
export function stateMachineTasks(
  definition: StateMachineDefinition,
  options: Pick<FunctionHostOptions, 'deployment' | 'evaluator' | 'iamUsage'> & {
    stateMachineName: string;
    lambda: () => LocalLambda;
    onTask?: (event: TaskEvent) => void | Promise<void>;
  },
): Record<string, TaskHandler> {
  const { deployment, evaluator, iamUsage, onTask } = options;
  const stateMachinePrincipal: IamPrincipal = {
    name: 'state-machine',
    sessionArn: `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${deployment.stateMachine.role.logicalId}/${options.stateMachineName}`,
    policies: deployment.stateMachine.role.policies,
  };
  const runTask = async (functionArn: string, input: unknown) => {
    const lambda = options.lambda();
    const name = lambda.nameOf(functionArn);
    const state = (input as { stage?: string; action?: string }).stage ?? String((input as { action?: string }).action);
    try {
      if (!name) throw Object.assign(new Error(`Function not found: ${functionArn}`), { name: 'Lambda.ResourceNotFoundException' });
      const decision = await evaluator.authorize(stateMachinePrincipal, [{ action: 'lambda:InvokeFunction', resource: functionArn }]);
      if (!decision.allowed) {
        iamUsage.denied(stateMachinePrincipal.name, 'lambda:InvokeFunction', decision.message);
        throw Object.assign(new Error(`${decision.message} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException)`), {
          name: 'Lambda.AWSLambdaException',
        });
      }
      iamUsage.allowed(stateMachinePrincipal.name, 'lambda:InvokeFunction');
      const { output, durationMs } = await lambda.invokeMeasured(name, input);
      const heldFrom = Date.now();
      await onTask?.({ state, input, output, durationMs });
      return afterHold(output, Date.now() - heldFrom);
    } catch (error) {
      await onTask?.({ state, input, error: error as Error, durationMs: error instanceof FunctionError ? (error.durationMs ?? 0) : 0 });
      throw error;
    }
  };
  const taskHandlers: Record<string, TaskHandler> = {};
  for (const task of taskStates(definition)) {
    taskHandlers[task.resource] ??= (input: unknown) => runTask(task.resource, input);
  }
  return taskHandlers;
}

/**
 * What a function's environment holds beyond its template variables: what Lambda itself sets (the
 * region, the function's name, memory and log group, its role's session credentials), and the
 * loopback endpoints: every AWS service through the IAM check, Stripe through the sandbox.
 */
function lambdaEnvironment(spec: FunctionSpec, role: RoleCredentials, awsEndpoint: string, stripeApiBase: string | undefined, dayMs: number | undefined): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroup.name,
    AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    AWS_ACCESS_KEY_ID: role.accessKeyId,
    AWS_SECRET_ACCESS_KEY: role.secretAccessKey,
    AWS_SESSION_TOKEN: role.sessionToken,
    AWS_ENDPOINT_URL_DYNAMODB: awsEndpoint,
    AWS_ENDPOINT_URL_SESV2: awsEndpoint,
    AWS_ENDPOINT_URL_SFN: awsEndpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: awsEndpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: awsEndpoint,
    AWS_ENDPOINT_URL_SQS: awsEndpoint,
    ...(stripeApiBase ? { [ENV.stripeApiBase]: stripeApiBase } : {}),
    ...(dayMs ? { [ENV.localDayMs]: String(dayMs) } : {}),
    // No X-Ray daemon locally: the X-Ray SDK's manual mode skips its per-promise async hook.
    AWS_XRAY_MANUAL_MODE: 'true',
    // Node 20 runs the functions locally on purpose (Lambda runs 22 or later); the SDK's warning is noise.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'];

/**
 * Shows a function's log line on this process's console when it is at least POWERTOOLS_LOG_LEVEL
 * of this process (WARN by default): the functions log at the level the template sets, as in AWS,
 * and the console shows what a person running it wants to see. A line that is not Powertools JSON
 * (a crash's stack) is always shown.
 */
function printFunctionLog({ functionName, stream, line }: FunctionLogLine): void {
  const threshold = LOG_LEVELS.indexOf((process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN').toUpperCase());
  const level = /^\{"level":"([A-Z]+)"/.exec(line)?.[1];
  if (level && LOG_LEVELS.indexOf(level) < threshold) return;
  if (stream === 'stderr' || level === 'ERROR' || level === 'CRITICAL') console.error(line);
  else console.log(level ? line : `${functionName}: ${line}`);
}
