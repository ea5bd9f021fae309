// Starts the whole product on loopback as `cdk deploy` would deploy it: the stack is synthesized
// in-process, and each function runs in worker threads of its own with exactly its synthesized
// environment, behind an IAM check of its synthesized role on every AWS call. Around them: dynalite,
// SES v2, Secrets Manager, the Stripe sandbox, and Step Functions running the template's definition.
import './untraced.ts';
import './polyfills.ts';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { APIGatewayProxyStructuredResultV2 as FunctionUrlResponse, LambdaFunctionURLEvent, SNSEvent } from 'aws-lambda';
import type { DunningFunctionName } from '#infra/constructs/dunning-function.ts';
import { ENV } from '#shared/config.ts';
import { createDynamoDocumentClient } from '#shared/adapters/aws-clients.ts';
import { DynamoCaseStore } from '#shared/adapters/dynamodb-case-store.ts';
import type { CaseStore } from '#shared/domain/ports.ts';
import type { TimelineEntry, TimelineEntryType } from '#shared/domain/case.ts';
import { keys } from '#shared/adapters/table.ts';
import { FLAGGED_STATUSES } from '#shared/dunning/failed-execution.ts';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { DEFAULT_POLICY_FILE, loadPolicySetFile } from '#shared/policy/load.ts';
import type { Policy } from '#shared/policy/schema.ts';
import { DEFAULT_POLICY_NAME, type PolicySet } from '#shared/policy/segments.ts';
import { policyStateName, taskStates, type StateMachineDefinition } from '#shared/workflow/definition.ts';
import { LocalMetrics, type AlarmState } from './aws/cloudwatch.ts';
import { describeDeployment, LOCAL_ACCOUNT, LOCAL_REGION, type FunctionSpec, type LocalDeployment } from './aws/deployment.ts';
import { IamEvaluator, type IamPrincipal } from './aws/iam.ts';
import { startIamGateway, type AwsCallTap, type RoleCredentials } from './aws/iam-gateway.ts';
import { IAM_USAGE_DIR_VARIABLE, IamUsage } from './aws/iam-usage.ts';
import type { Template } from './aws/intrinsics.ts';
import { FunctionError, LocalLambda, type FunctionLogLine } from './aws/lambda.ts';
import { startLocalSecretsManager } from './aws/secrets-manager.ts';
import type { LocalConfig } from './config.ts';
import { LOCAL_STRIPE_KEY } from './config.ts';
import { ensureTable, startDynamoDb } from './dynamodb.ts';
import { startSesLocal } from './ses.ts';
import { addressedToSelf, listen, serviceOf } from './http-service.ts';
import { startLocalStepFunctions, statusChangeEvent, type LocalExecution, type LocalStepFunctions, type TaskHandler } from './stepfunctions.ts';
import { startStripeSandbox, type StripeSandbox, type WebhookTarget } from './stripe-sandbox.ts';
import { PREVIEW_PATH, servePreviews } from './preview/serve.ts';
import { DISCOVERY_PATH, type LocalDiscovery } from './discovery.ts';
import { CONSOLE_PATH, serveConsole } from './console.ts';
import { atLocalOrigin } from './local-origin.ts';
import { ACCOUNT_PATH, isAccountPath, serveAccount } from './account.ts';

const REGION = LOCAL_REGION;
const ACCOUNT = LOCAL_ACCOUNT;
const STATE_MACHINE_NAME = 'dunning-local';
export const LOCAL_STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`;
export const LOCAL_EMAIL_EVENTS_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:dunning-email-events`;

export interface TaskEvent {
  /** The policy stage id, or the close-case action (recover, terminate). */
  state: string;
  input: unknown;
  output?: unknown;
  error?: Error;
  /** How long the handler ran (the Lambda's billed duration, before rounding); the bench's cost model reads it. */
  durationMs: number;
}

export interface RuntimeEvents {
  /**
   * A Task state finished (ok) or threw (error). The execution waits for the returned promise, so a
   * test can act between a stage and the wait that follows it without racing the compressed clock.
   */
  onTask?: (event: TaskEvent) => void | Promise<void>;
  onWebhook?: (event: { status: number; body: Record<string, unknown> }) => void;
  onExecutionEnd?: (execution: LocalExecution) => void;
  /** A line a function logged (stdout or stderr), as its log group would hold it. */
  onFunctionLog?: (line: FunctionLogLine) => void;
  /**
   * A timeline entry the operator wrote (the CLI's pause, close, replay…, signed with the operator's
   * own key rather than a function's role): those acts run in the CLI's process, so no task or
   * webhook of this runtime sees them.
   */
  onOperatorEntry?: (event: { invoiceId: string; entry: TimelineEntry }) => void;
}

/** How the stack is deployed locally, beyond the settings of `LocalConfig`. */
export interface RuntimeOptions {
  /** Deploy Stripe's EventBridge ingest too (handle-eventbridge), for this partner event bus name. */
  eventBridgeBusName?: string;
  /**
   * Changes the synthesized template before the runtime reads it, e.g. takes one statement out of
   * one role, to see what AWS would refuse.
   */
  transformTemplate?: (template: Template) => void;
  /** Containers per function at most. @default 4 */
  maxContainers?: number;
  /** Sees (and may rewrite) every AWS call the functions make: for measurement, as the bench's cost model does. */
  awsCallTap?: AwsCallTap;
}

export interface Runtime {
  config: LocalConfig;
  /** The `default` policy. */
  policy: Policy;
  /**
   * Every policy of DUNNING_POLICY_FILE, with its segments and alsoNotify, as the functions run it:
   * URLs at the default local origin (http://127.0.0.1:3000) moved to `urls.app`.
   */
  policies: PolicySet;
  /** The policy file loaded: DUNNING_POLICY_FILE, or the shipped default. */
  policyFile: string;
  /** The state machine's definition, exactly as the synthesized template deploys it. */
  definition: StateMachineDefinition;
  /** The stack as synthesized: each function's environment, timeout, memory and IAM policy. */
  deployment: LocalDeployment;
  /** The functions, each in worker threads of its own. */
  lambda: LocalLambda;
  /** Metrics the functions and the local AWS services published. */
  metrics: LocalMetrics;
  /** The stack's alarms, evaluated against `metrics`. */
  alarms(): AlarmState[];
  /** Every AWS call the functions made that IAM allowed or refused. */
  iamUsage: IamUsage;
  urls: { app: string; webhook: string; ses: string; dynamodb: string; stripe: string; stepFunctions: string; secretsManager: string; previews: string; console: string; account: string };
  stripeApiKey: string;
  sandbox?: StripeSandbox;
  /**
   * The sandbox's webhook endpoint, configured as the README says to configure one in Stripe: the
   * runtime's /webhook, subscribed to HANDLED_EVENT_TYPES only.
   */
  webhookEndpoint: WebhookTarget;
  stepFunctions: LocalStepFunctions;
  /** Open cases whose executions were carried over from DUNNING_DATA_DIR at start. */
  resumed: number;
  /** A reader over the same table the handlers write, for the timeline and tests. */
  store: CaseStore;
  close(): Promise<void>;
}

export async function startRuntime(config: LocalConfig, events: RuntimeEvents = {}, options: RuntimeOptions = {}): Promise<Runtime> {
  const policyFile = config.policyFile ?? DEFAULT_POLICY_FILE;
  /** The policy file as written; the functions run it with its local URLs moved (below). */
  const written = loadPolicySetFile(policyFile);
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    if (config.dataDir) mkdirSync(config.dataDir, { recursive: true });
    // Filled in once the functions have role credentials: a write signed with none of them is the operator's.
    const credentials = new Map<string, RoleCredentials>();
    const dynamo = await startDynamoDb({
      port: config.dynamoDbPort,
      host: config.host,
      dataDir: config.dataDir ? join(config.dataDir, 'dynamodb') : undefined,
      onPut: events.onOperatorEntry
        ? (stored) => {
            const byFunction = [...credentials.values()].some((role) => role.accessKeyId === stored.accessKeyId);
            const entry = !byFunction && stored.tableName === config.tableName ? timelineEntryOf(stored.item) : undefined;
            if (entry) events.onOperatorEntry!(entry);
          }
        : undefined,
    });
    closers.push(dynamo.close);
    const ses = await startSesLocal({ port: config.sesPort, host: config.host });
    closers.push(ses.close);

    let sandbox: StripeSandbox | undefined;
    const stripeApiKey = config.stripeApiKey ?? LOCAL_STRIPE_KEY;
    if (!config.stripeApiKey) {
      sandbox = await startStripeSandbox({
        port: config.stripePort,
        host: config.host,
        dataDir: config.dataDir,
        // The account as the README's deploy step 4 sets it up: no Smart Retries (unless asked
        // for), and the subscription left past due after the retries (unless asked otherwise).
        automaticRetryDays: config.stripeRetryDays,
        subscriptionAfterRetries: config.stripeEndOfRetries,
        // Stripe retries a failed delivery hours later: an hour of policy time here, but never
        // sooner than a cold function can answer (a second), as Stripe's real hours never are.
        // One delivery in flight: a second would start a second cold webhook function, seconds
        // that are days of compressed policy time; the latency window still shuffles the order.
        delivery: {
          mode: config.stripeDelivery,
          seed: config.stripeDeliverySeed,
          hourMs: config.dayMs / 24,
          minRetryMs: 1000,
          concurrency: 1,
        },
      });
      closers.push(() => sandbox!.close());
    }

    // This process acts as the operator: its own AWS SDK clients (the console, the CLI's local
    // target, tests) reach the local services directly. The functions do not: each has its own
    // environment, role credentials and the IAM check in front of every service.
    Object.assign(process.env, {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const documentClient = createDynamoDocumentClient({ endpoint: dynamo.endpoint });
    await ensureTable(documentClient, config.tableName);
    const store = new DynamoCaseStore(documentClient, config.tableName);

    // The Function URLs all answer on the runtime's own port, which must be known before the
    // template is read (the links' base URL is the update-payment-link Function URL).
    let ready: Routes | undefined;
    const server = createServer((req, res) => {
      void route(req, res, ready, config).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (error as Error).message }));
      });
    });
    await listen(server, config.port, config.host, 'DUNNING_PORT');
    const appService = serviceOf(server);
    closers.push(appService.close);
    const app = appService.endpoint;
    // The policy as this runtime runs it: its local URLs (the default's My Account) lead here.
    const policies = atLocalOrigin(written, app);
    const policy = policies.policies[DEFAULT_POLICY_NAME]!;

    const deployment = await describeDeployment({
      policies: written,
      localOrigin: app,
      sender: config.sender,
      replyTo: config.replyTo?.split(',').map((a) => a.trim()).filter(Boolean),
      tableName: config.tableName,
      stateMachineName: STATE_MACHINE_NAME,
      functionUrlBase: app,
      eventBridgeBusName: options.eventBridgeBusName,
      transformTemplate: options.transformTemplate,
    });
    const definition = deployment.stateMachine.definition;

    const secretsManager = await startLocalSecretsManager({
      host: config.host,
      secrets: {
        [deployment.secrets.stripeApiKey]: stripeApiKey,
        [deployment.secrets.webhookSigningSecret]: config.webhookSecret,
        [deployment.secrets.linkSigningKey]: config.linkSigningKey,
      },
    });
    closers.push(secretsManager.close);
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsManager.endpoint;

    const metrics = new LocalMetrics();
    const iamUsage = new IamUsage();
    closers.push(async () => iamUsage.persist(process.env[IAM_USAGE_DIR_VARIABLE]));
    const evaluator = new IamEvaluator(ACCOUNT);
    const stateMachinePrincipal: IamPrincipal = {
      name: 'state-machine',
      sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${deployment.stateMachine.role.logicalId}/${STATE_MACHINE_NAME}`,
      policies: deployment.stateMachine.role.policies,
    };

    const holder: { lambda?: LocalLambda } = {};
    const taskHandlers: Record<string, TaskHandler> = {};
    for (const task of taskStates(definition)) {
      taskHandlers[task.resource] ??= (input: unknown) => runTask(task.resource, input);
    }
    /** A Task state invokes its function as the state machine's role, which IAM must allow. */
    const runTask = async (functionArn: string, input: unknown) => {
      const lambda = holder.lambda!;
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
        await events.onTask?.({ state, input, output, durationMs });
        return output;
      } catch (error) {
        await events.onTask?.({ state, input, error: error as Error, durationMs: error instanceof FunctionError ? (error.durationMs ?? 0) : 0 });
        throw error;
      }
    };

    const flagCaseDeployed = deployment.functions.has('flag-case');
    const stepFunctions = await startLocalStepFunctions({
      definition,
      stateMachineArn: deployment.stateMachine.arn,
      handlers: taskHandlers,
      dayMs: config.dayMs,
      host: config.host,
      onExecutionEnd: (execution) => {
        const metric = EXECUTION_METRICS[execution.status];
        if (metric) metrics.put({ namespace: 'AWS/States', name: metric, dimensions: { StateMachineArn: deployment.stateMachine.arn }, value: 1, unit: 'Count' });
        // The EventBridge rule of AWS, locally: an execution that failed or timed out invokes
        // flag-case asynchronously with an event of the same shape.
        if (flagCaseDeployed && (FLAGGED_STATUSES as readonly string[]).includes(execution.status)) {
          holder.lambda?.invokeAsync('flag-case', statusChangeEvent(execution, deployment.stateMachine.arn));
        }
        events.onExecutionEnd?.(execution);
      },
    });
    process.env.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;

    const gateway = await startIamGateway({
      host: config.host,
      upstreams: { dynamodb: dynamo.endpoint, ses: ses.endpoint, states: stepFunctions.endpoint, secretsmanager: secretsManager.endpoint },
      names: { region: REGION, account: ACCOUNT, secretArn: (id) => secretsManager.arnOf(id) },
      evaluator,
      usage: iamUsage,
      tap: options.awsCallTap,
    });
    closers.push(gateway.close);

    const principalOf = (spec: FunctionSpec): IamPrincipal => ({
      name: spec.name,
      sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${spec.role.logicalId}/${spec.functionName}`,
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
    const lambda = new LocalLambda({
      functions: deployment.functions,
      maxContainers: options.maxContainers,
      metrics,
      runtimeEnvironment: (spec) => {
        let role = credentials.get(spec.name);
        if (!role) {
          role = gateway.credentialsFor(principalOf(spec));
          credentials.set(spec.name, role);
        }
        return lambdaEnvironment(spec, role, gateway.endpoint, sandbox?.url);
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
        events.onFunctionLog?.(line);
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
    holder.lambda = lambda;
    // Closed first (closers run in reverse): no stage may start while the services go away, and the
    // ones running finish before the stores under them close.
    closers.push(async () => {
      await stepFunctions.close();
      await lambda.close();
    });

    const webhookEndpoint: WebhookTarget = { url: `${app}/webhook`, secret: config.webhookSecret, enabledEvents: HANDLED_EVENT_TYPES };
    sandbox?.setWebhook(webhookEndpoint);
    const discovery: LocalDiscovery = {
      product: 'stripe-dunning',
      region: REGION,
      tableName: config.tableName,
      stateMachineArn: deployment.stateMachine.arn,
      endpoints: { dynamodb: dynamo.endpoint, sesv2: ses.endpoint, sfn: stepFunctions.endpoint, secretsManager: secretsManager.endpoint },
      stripe: { apiBase: sandbox?.url, apiKey: sandbox ? stripeApiKey : undefined },
      linkBaseUrl: app,
      linkSigningKeySecretArn: deployment.secrets.linkSigningKey,
      sender: config.sender,
      replyTo: config.replyTo,
      policies,
      dayMs: config.dayMs,
      sesInbox: ses.endpoint,
      console: `${app}${CONSOLE_PATH}`,
    };
    ready = {
      self: app,
      lambda,
      onWebhook: events.onWebhook,
      store,
      policies,
      discovery,
      sesInbox: ses.endpoint,
    };
    const resumed = config.dataDir ? await resumeOpenCases(store, stepFunctions, definition) : 0;

    return {
      config,
      policy,
      policies,
      policyFile,
      definition,
      deployment,
      lambda,
      metrics,
      alarms: () => metrics.evaluate(deployment.alarms),
      iamUsage,
      resumed,
      urls: {
        app,
        webhook: `${app}/webhook`,
        ses: ses.endpoint,
        dynamodb: dynamo.endpoint,
        stripe: sandbox?.url ?? 'https://api.stripe.com',
        stepFunctions: stepFunctions.endpoint,
        secretsManager: secretsManager.endpoint,
        previews: `${app}${PREVIEW_PATH}`,
        console: `${app}${CONSOLE_PATH}`,
        account: `${app}${ACCOUNT_PATH}`,
      },
      stripeApiKey,
      sandbox,
      webhookEndpoint,
      stepFunctions,
      store,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A timeline item of the table as the entry it holds, with its case; undefined for any other item. */
function timelineEntryOf(item: Record<string, string>): { invoiceId: string; entry: TimelineEntry } | undefined {
  const { pk, sk, at, type, stage, detail, messageId, eventId } = item;
  if (!pk?.startsWith('CASE#') || !sk?.startsWith(keys.timelinePrefix) || !at || !type) return undefined;
  const entry = { at, type: type as TimelineEntryType, stage, detail, messageId, eventId };
  return { invoiceId: pk.slice('CASE#'.length), entry: Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)) as unknown as TimelineEntry };
}

/** The CloudWatch metric AWS/States publishes for an execution that ended so. */
const EXECUTION_METRICS: Partial<Record<LocalExecution['status'], string>> = {
  SUCCEEDED: 'ExecutionsSucceeded',
  FAILED: 'ExecutionsFailed',
  TIMED_OUT: 'ExecutionsTimedOut',
  ABORTED: 'ExecutionsAborted',
};

/**
 * What a function's environment holds beyond its template variables: what Lambda itself sets (the
 * region, the function's name, memory and log group, its role's session credentials), and the
 * loopback endpoints: every AWS service through the IAM check, Stripe through the sandbox.
 */
function lambdaEnvironment(spec: FunctionSpec, role: RoleCredentials, awsEndpoint: string, stripeApiBase: string | undefined): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
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
    ...(stripeApiBase ? { [ENV.stripeApiBase]: stripeApiBase } : {}),
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

/**
 * Executions live in this process, so a restart with DUNNING_DATA_DIR would strand every open case.
 * Each resumes at the last stage that began: re-running it is safe, because a claimed notice is not
 * sent again and a retried payment replays its Stripe idempotency key.
 */
async function resumeOpenCases(store: CaseStore, stepFunctions: LocalStepFunctions, definition: StateMachineDefinition): Promise<number> {
  const open = (await store.listOpenCases()).filter((c) => c.executionArn);
  for (const c of open) {
    const policy = c.policy ?? DEFAULT_POLICY_NAME;
    const state = c.stage && policyStateName(policy, c.stage);
    stepFunctions.resume(c.executionName, { invoiceId: c.invoiceId, policy }, state && definition.States[state] ? state : definition.StartAt);
  }
  return open.length;
}

interface Routes {
  /** The runtime's own address, which local-only requests must name as Host. */
  self: string;
  lambda: LocalLambda;
  onWebhook?: RuntimeEvents['onWebhook'];
  store: CaseStore;
  policies: PolicySet;
  discovery: LocalDiscovery;
  sesInbox: string;
}

async function route(req: IncomingMessage, res: ServerResponse, routes: Routes | undefined, config: LocalConfig): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);

  if (url.pathname === '/health') return send(res, 200, { status: routes ? 'ok' : 'starting' });
  if (!routes) return send(res, 503, { error: 'starting' });
  // What reveals or changes state answers only requests addressed to this runtime (no DNS rebinding),
  // and what changes state also wants the local token.
  const local = isLocalOnly(url.pathname, req.method);
  if (local && !addressedToSelf(req, routes.self)) {
    return send(res, 403, { error: `${url.pathname} answers only requests addressed to ${new URL(routes.self).host}` });
  }
  if (local === 'write' && !bearerMatches(req.headers.authorization, config.bannerToken)) {
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="dunning-local"' });
    res.end(JSON.stringify({ error: 'send Authorization: Bearer <DUNNING_BANNER_TOKEN> (the local token npm start prints)' }));
    return;
  }
  if (url.pathname === DISCOVERY_PATH && req.method === 'GET') return send(res, 200, routes.discovery);
  if ((url.pathname === CONSOLE_PATH || url.pathname.startsWith(`${CONSOLE_PATH}/`)) && req.method === 'GET') {
    return serveConsole(url, res, { store: routes.store, sesInbox: routes.sesInbox, policies: routes.policies, origin: routes.self });
  }
  if ((url.pathname + '/').startsWith(PREVIEW_PATH) && req.method === 'GET') return servePreviews(url.pathname, res);
  if (isAccountPath(url.pathname) && req.method === 'GET') {
    // The local My Account page's backend holds the banner API's credentials, as a merchant's does.
    const notice = (customerId: string) =>
      invokeUrl(routes.lambda, 'get-notice', functionUrlEvent(req, new URL(`/customers/${customerId}/notice`, routes.self), Buffer.alloc(0)));
    return serveAccount(url, res, { store: routes.store, notice });
  }
  if (url.pathname === '/webhook') {
    const result = await invokeUrl(routes.lambda, 'handle-webhook', functionUrlEvent(req, url, body));
    if (routes.onWebhook) routes.onWebhook({ status: result.statusCode ?? 200, body: JSON.parse(String(result.body ?? '{}')) });
    return sendResult(res, result);
  }
  if (/^\/customers\/[^/]+\/notice\/?$/.test(url.pathname)) {
    if (!bearerMatches(req.headers.authorization, config.bannerToken)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="dunning-notice-api"' });
      res.end(JSON.stringify({ error: 'send Authorization: Bearer <DUNNING_BANNER_TOKEN>' }));
      return;
    }
    return sendResult(res, await invokeUrl(routes.lambda, 'get-notice', functionUrlEvent(req, url, body)));
  }
  if (url.pathname.startsWith('/u/')) {
    return sendResult(res, await invokeUrl(routes.lambda, 'open-payment-link', functionUrlEvent(req, url, body)));
  }
  if (url.pathname === '/ses/events' && req.method === 'POST') {
    // aws-ses-v2-local publishes no events: SES event notifications are POSTed here as SNS posts
    // them to an HTTPS subscriber, and go to the same function SNS invokes in AWS.
    const event = snsEventOf(body);
    if (!event) return send(res, 400, { error: 'expected an SNS notification: {"Type":"Notification","Message":"<SES event JSON>"}' });
    return send(res, 200, { results: await routes.lambda.invoke('record-email-event', event) });
  }
  if (url.pathname === '/cases' && req.method === 'GET') {
    return send(res, 200, { cases: await routes.store.listCases() });
  }
  const caseMatch = /^\/cases\/(in_[A-Za-z0-9]+)\/?$/.exec(url.pathname);
  if (caseMatch && req.method === 'GET') {
    const invoiceId = caseMatch[1]!;
    const found = await routes.store.getCase(invoiceId);
    if (!found) return send(res, 404, { error: `no case for ${invoiceId}` });
    return send(res, 200, { case: found, timeline: await routes.store.listTimeline(invoiceId) });
  }
  return send(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
}

/**
 * The endpoints that exist only locally and reveal state (`read`) or change it (`write`); the
 * Function URLs (webhook, banner, link) carry their own credentials, as in AWS.
 */
function isLocalOnly(path: string, method: string | undefined): 'read' | 'write' | undefined {
  if (path === '/ses/events') return 'write';
  if (
    path === DISCOVERY_PATH ||
    path === '/cases' ||
    path.startsWith('/cases/') ||
    path === CONSOLE_PATH ||
    path.startsWith(`${CONSOLE_PATH}/`) ||
    isAccountPath(path)
  ) {
    return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
  }
  return undefined;
}

/**
 * A Function URL invocation: a function that throws is answered 502, as Lambda's Function URLs
 * answer it, and the error stays in the function's log.
 */
async function invokeUrl(lambda: LocalLambda, name: DunningFunctionName, event: LambdaFunctionURLEvent): Promise<FunctionUrlResponse> {
  try {
    return await lambda.invoke<FunctionUrlResponse>(name, event);
  } catch (error) {
    if (!(error instanceof FunctionError)) throw error;
    return { statusCode: 502, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Message: 'Internal Server Error' }) };
  }
}

/** The event a Lambda Function URL delivers (payload format 2.0), so the handler sees what it sees in AWS. */
function functionUrlEvent(req: IncomingMessage, url: URL, body: Buffer): LambdaFunctionURLEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = String(value);
  const method = req.method ?? 'GET';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.fromEntries(url.searchParams),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: body.toString('base64'),
    isBase64Encoded: true,
  } as LambdaFunctionURLEvent;
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The Lambda event SNS would deliver for one notification posted to an HTTP subscriber. */
function snsEventOf(body: Buffer): SNSEvent | undefined {
  let notification: { Type?: unknown; Message?: unknown; MessageId?: unknown; TopicArn?: unknown; Timestamp?: unknown };
  try {
    notification = JSON.parse(body.toString('utf8')) as typeof notification;
  } catch {
    return undefined;
  }
  if (notification?.Type !== 'Notification' || typeof notification.Message !== 'string') return undefined;
  const topicArn = typeof notification.TopicArn === 'string' ? notification.TopicArn : LOCAL_EMAIL_EVENTS_TOPIC_ARN;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${topicArn}:local`,
        Sns: {
          Type: 'Notification',
          MessageId: typeof notification.MessageId === 'string' ? notification.MessageId : crypto.randomUUID(),
          TopicArn: topicArn,
          Subject: '',
          Message: notification.Message,
          Timestamp: typeof notification.Timestamp === 'string' ? notification.Timestamp : new Date().toISOString(),
          SignatureVersion: '1',
          Signature: '',
          SigningCertUrl: '',
          UnsubscribeUrl: '',
          MessageAttributes: {},
        },
      },
    ],
  };
}

function sendResult(res: ServerResponse, result: FunctionUrlResponse): void {
  res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
  res.end(result.body ?? '');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2));
}
