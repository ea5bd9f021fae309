// Starts the whole product on loopback as `cdk deploy` would deploy it: the stack is synthesized
// in-process, and each function runs in worker threads of its own with exactly its synthesized
// environment, behind an IAM check of its synthesized role on every AWS call. Around them: dynalite,
// SES v2, Secrets Manager, the Stripe sandbox, and Step Functions running the template's definition.
import './untraced.ts';
import './polyfills.ts';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createDynamoDocumentClient } from '#shared/adapters/aws-clients.ts';
import { DynamoCaseStore } from '#shared/adapters/dynamodb/case-store.ts';
import { keys } from '#shared/adapters/table.ts';
import type { TimelineEntry, TimelineEntryType } from '#shared/domain/case.ts';
import type { CaseStore } from '#shared/domain/ports.ts';
import { FLAGGED_STATUSES } from '#shared/dunning/failed-execution.ts';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { DEFAULT_POLICY_FILE, loadPolicySetFile } from '#shared/policy/load.ts';
import type { Policy } from '#shared/policy/schema.ts';
import { DEFAULT_POLICY_NAME, type PolicySet } from '#shared/policy/segments.ts';
import type { StateMachineDefinition } from '#shared/workflow/definition.ts';
import { LocalMetrics, type AlarmState } from './aws/cloudwatch.ts';
import { describeDeployment, LOCAL_ACCOUNT, LOCAL_REGION, type LocalDeployment } from './aws/deployment.ts';
import { IamEvaluator } from './aws/iam.ts';
import { startIamGateway, type AwsCallTap, type RoleCredentials } from './aws/iam-gateway.ts';
import { IAM_USAGE_DIR_VARIABLE, IamUsage } from './aws/iam-usage.ts';
import type { Template } from './aws/intrinsics.ts';
import type { FunctionLogLine, LocalLambda } from './aws/lambda.ts';
import { startLocalSecretsManager } from './aws/secrets-manager.ts';
import type { LocalConfig } from './config.ts';
import { LOCAL_STRIPE_KEY } from './config.ts';
import { ensureTable, startDynamoDb } from './dynamodb.ts';
import { startSesLocal } from './ses.ts';
import { listen, serviceOf } from './http-service.ts';
import { startLocalStepFunctions, statusChangeEvent, type LocalExecution, type LocalStepFunctions } from './stepfunctions.ts';
import { startStripeSandbox, type StripeSandbox, type WebhookTarget } from './stripe-sandbox.ts';
import { PREVIEW_PATH } from './preview/serve.ts';
import type { LocalDiscovery } from './discovery.ts';
import { CONSOLE_PATH } from './console.ts';
import { atLocalOrigin } from './local-origin.ts';
import { ACCOUNT_PATH } from './account.ts';
import { hostFunctions, stateMachineTasks, type TaskEvent } from './function-host.ts';
import { resumeOpenCases } from './resume.ts';
import { route, type Routes, type WebhookListener } from './routes.ts';

export type { TaskEvent } from './function-host.ts';
export { LOCAL_EMAIL_EVENTS_TOPIC_ARN } from './routes.ts';

const REGION = LOCAL_REGION;
const ACCOUNT = LOCAL_ACCOUNT;
const STATE_MACHINE_NAME = 'dunning-local';
export const LOCAL_STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${STATE_MACHINE_NAME}`;

export interface RuntimeEvents {
  /**
   * A Task state finished (ok) or threw (error). The execution waits for the returned promise, so a
   * test can act between a stage and the wait that follows it without racing the compressed clock.
   */
  onTask?: (event: TaskEvent) => void | Promise<void>;
  onWebhook?: WebhookListener;
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

    // The state machine starts before the functions (they need its endpoint); a Task finds them here.
    const holder: { lambda?: LocalLambda } = {};
    const tasks = stateMachineTasks(definition, {
      deployment,
      evaluator,
      iamUsage,
      stateMachineName: STATE_MACHINE_NAME,
      lambda: () => holder.lambda!,
      onTask: events.onTask,
    });

    const flagCaseDeployed = deployment.functions.has('flag-case');
    const stepFunctions = await startLocalStepFunctions({
      definition,
      stateMachineArn: deployment.stateMachine.arn,
      handlers: tasks,
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

    const lambda = hostFunctions({
      deployment,
      evaluator,
      iamUsage,
      gateway,
      credentials,
      metrics,
      maxContainers: options.maxContainers,
      stripeApiBase: sandbox?.url,
      dayMs: config.dayMs,
      onFunctionLog: events.onFunctionLog,
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
