// Starts the whole product on loopback as `cdk deploy` would deploy it: the stack is synthesized
// in-process, and each function runs in worker threads of its own with exactly its synthesized
// environment, behind an IAM check of its synthesized role on every AWS call. Around them: dynalite,
// SES v2, Secrets Manager, EventBridge, the Stripe sandbox, and Step Functions running the template's
// definition.
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
import { startLocalEventBridge, type LocalEventBridge } from './aws/eventbridge.ts';
import { IamEvaluator } from './aws/iam.ts';
import { startIamGateway, type AwsCallTap, type RoleCredentials } from './aws/iam-gateway.ts';
import { IAM_USAGE_DIR_VARIABLE, IamUsage } from './aws/iam-usage.ts';
import type { Template } from './aws/intrinsics.ts';
import type { FunctionLogLine, LocalLambda } from './aws/lambda.ts';
import { startLocalSecretsManager } from './aws/secrets-manager.ts';
import { startLocalSqs, type LocalSqs } from './aws/sqs.ts';
import type { LocalConfig } from './config.ts';
import { LOCAL_STRIPE_KEY } from './config.ts';
import { ensureTable, startDynamoDb } from './dynamodb.ts';
import { startSesLocal } from './ses.ts';
import { listen, serviceOf } from './http-service.ts';
import { startLocalStepFunctions, statusChangeEvent, type LocalExecution, type LocalStepFunctions } from './stepfunctions.ts';
import { startStripeSandbox, type StripeSandbox, type WebhookTarget } from './stripe-sandbox.ts';
import { startStripeTap, type StripeCallTap } from './stripe-tap.ts';
import { PREVIEW_PATH } from './preview/serve.ts';
import type { LocalDiscovery } from './discovery.ts';
import { CONSOLE_PATH } from './console.ts';
import { atLocalOrigin } from './local-origin.ts';
import { ACCOUNT_PATH } from './account.ts';
import { hostFunctions, stateMachineTasks, type TaskEvent } from './function-host.ts';
import { resumeOpenCases } from './resume.ts';
import { startLocalStream, type LocalStream } from './aws/dynamodb-stream.ts';
import { route, type Routes, type WebhookListener } from './routes.ts';
import { routedEventIds, routedResult } from './routed.ts';
import { budgetOf } from '#infra/deploy-settings.ts';

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
  /**
   * route-events routed a Stripe event behind the webhook's queue: its id, and what routing came to
   * (the router's result, as its dedupe record keeps it: `action`, `invoiceId`, …).
   */
  onRouted?: (event: { eventId: string; result: Record<string, unknown> }) => void;
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
  /**
   * Sees every Stripe request the functions make (not this process's own), through a loopback proxy
   * in front of the sandbox: for measurement, as the Stripe-requests test and the bench count them.
   */
  stripeCallTap?: StripeCallTap;
  /** How often the outbox sweep's schedule fires. @default 60_000, the deployed rate(1 minute) */
  outboxSweepEveryMs?: number;
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
  urls: { app: string; webhook: string; ses: string; dynamodb: string; stripe: string; stepFunctions: string; secretsManager: string; eventBridge: string; previews: string; console: string; account: string };
  stripeApiKey: string;
  sandbox?: StripeSandbox;
  /**
   * The sandbox's webhook endpoint, configured as the README says to configure one in Stripe: the
   * runtime's /webhook, subscribed to HANDLED_EVENT_TYPES only.
   */
  webhookEndpoint: WebhookTarget;
  stepFunctions: LocalStepFunctions;
  /**
   * The stack's event buses, locally: every event the functions published (PutEvents), newest last,
   * also served at `GET /events` and POSTed to DUNNING_EVENTS_URL when it is set.
   */
  eventBridge: LocalEventBridge;
  /**
   * The stack's SQS queues and their event source mappings: the webhook's event queue into
   * route-events, and the dead-letter queues. `drained()` resolves once nothing waits to be routed.
   */
  sqs: LocalSqs;
  /** The table's stream into publish-events: `drained()` resolves once every outbox entry so far was handed over. */
  outboxStream?: LocalStream;
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
    const streamHolder: { stream?: LocalStream } = {};
    const dynamo = await startDynamoDb({
      port: config.dynamoDbPort,
      host: config.host,
      dataDir: config.dataDir ? join(config.dataDir, 'dynamodb') : undefined,
      onPut: (stored) => {
        // The table's stream, once the functions it invokes are up.
        streamHolder.stream?.onPut(stored);
        if (!events.onOperatorEntry) return;
        const byFunction = [...credentials.values()].some((role) => role.accessKeyId === stored.accessKeyId);
        const entry = !byFunction && stored.tableName === config.tableName ? timelineEntryOf(stored.item) : undefined;
        if (entry) events.onOperatorEntry(entry);
      },
    });
    closers.push(dynamo.close);
    const ses = await startSesLocal({ port: config.sesPort, host: config.host, maxSendRate: config.sesMaxSendRate });
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
        rateLimits: config.stripeRateLimits,
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
      budget: budgetOf(config.stripeBudget, config.emailBudget),
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

    // The buses the template creates (none until a construct publishes events): a PutEvents to any
    // other is answered and dropped, as AWS does.
    const eventBridge = await startLocalEventBridge({
      host: config.host,
      buses: deployment.eventBuses.map((bus) => bus.name),
      region: REGION,
      account: ACCOUNT,
      forwardUrl: config.eventsUrl,
    });
    closers.push(eventBridge.close);
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = eventBridge.endpoint;

    const metrics = new LocalMetrics();
    // The queues the template creates; a message that lands in a dead-letter queue moves its alarm.
    const sqs = await startLocalSqs({
      host: config.host,
      region: REGION,
      queues: deployment.queues,
      // Visibility timeouts pass like the policy's days (a failed event comes back within seconds).
      timeScale: config.dayMs / 86_400_000,
      onDeadLetter: (queue) => metrics.put({ namespace: 'AWS/SQS', name: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: queue.name }, value: 1 }),
    });
    closers.push(sqs.close);
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
      upstreams: {
        dynamodb: dynamo.endpoint,
        ses: ses.endpoint,
        states: stepFunctions.endpoint,
        secretsmanager: secretsManager.endpoint,
        events: eventBridge.endpoint,
        sqs: sqs.endpoint,
      },
      names: { region: REGION, account: ACCOUNT, secretArn: (id) => secretsManager.arnOf(id) },
      evaluator,
      usage: iamUsage,
      tap: options.awsCallTap,
    });
    closers.push(gateway.close);

    // With a tap, each function reaches the sandbox through a proxy of its own, which names it.
    let functionsStripeApiBase: string | ((functionName: string) => string) | undefined = sandbox?.url;
    if (sandbox && options.stripeCallTap) {
      const taps = new Map<string, string>();
      for (const name of deployment.functions.keys()) {
        const tap = await startStripeTap(sandbox.url, config.host, name, options.stripeCallTap);
        closers.push(tap.close);
        taps.set(name, tap.endpoint);
      }
      functionsStripeApiBase = (name) => taps.get(name) ?? sandbox!.url;
    }
    const lambda = hostFunctions({
      deployment,
      evaluator,
      iamUsage,
      gateway,
      credentials,
      metrics,
      maxContainers: options.maxContainers,
      stripeApiBase: functionsStripeApiBase,
      dayMs: config.dayMs,
      onFunctionLog: events.onFunctionLog,
    });
    holder.lambda = lambda;
    // The table's stream and its event source mapping: new outbox entries invoke publish-events.
    if (deployment.functions.has('publish-events')) {
      const stream = startLocalStream({
        tableName: config.tableName,
        streamArn: `${deployment.table.arn}/stream/local`,
        invoke: (event) => lambda.invoke('publish-events', event),
        sweepEveryMs: options.outboxSweepEveryMs,
      });
      streamHolder.stream = stream;
    }
    // Lambda's event source mappings on the queues: its poller receives and deletes with the
    // function's role, which IAM must allow, and invokes the function with each batch.
    for (const mapping of deployment.queueMappings) {
      const spec = deployment.functions.get(mapping.functionName)!;
      const principal = {
        name: spec.name,
        sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${spec.role.logicalId}/${spec.functionName}`,
        policies: spec.role.policies,
      };
      sqs.attach(mapping.queueArn, {
        batchSize: mapping.batchSize,
        reportBatchItemFailures: mapping.reportBatchItemFailures,
        invoke: async (event) => {
          const answer = await lambda.invoke(mapping.functionName, event);
          if (events.onRouted && spec.name === 'route-events') {
            for (const eventId of routedEventIds(event, answer)) {
              void routedResult(documentClient, config.tableName, eventId)
                .then((result) => result && events.onRouted?.({ eventId, result }))
                .catch((error: unknown) => console.error(`local runtime: reading what ${eventId} was routed to: ${(error as Error).message}`));
            }
          }
          return answer;
        },
        authorize: async (action, queueArn) => {
          const decision = await evaluator.authorize(principal, [{ action, resource: queueArn }]);
          if (decision.allowed) iamUsage.allowed(principal.name, action);
          else {
            iamUsage.denied(principal.name, action, decision.message);
            console.error(`${spec.functionName}: Lambda cannot poll its queue with its role: ${decision.message}`);
          }
          return decision.allowed;
        },
      });
    }
    // Closed first (closers run in reverse): no stage may start while the services go away, and the
    // ones running finish before the stores under them close.
    closers.push(async () => {
      await stepFunctions.close();
      // No stream batch starts as the functions go away.
      await streamHolder.stream?.close();
      await sqs.close();
      await lambda.close();
    });

    if (sandbox) {
      // The sandbox is idle once its deliveries are made and the events they carried are routed:
      // routing runs behind the webhook's queue now, and may make Stripe send more.
      const deliveriesIdle = sandbox.idle.bind(sandbox);
      sandbox.idle = async () => {
        await deliveriesIdle();
        await sqs.drained();
        await deliveriesIdle();
      };
    }
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
      webhook: { url: webhookEndpoint.url, signingSecretArn: deployment.secrets.webhookSigningSecret },
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
      events: (filter) => eventBridge.events(filter),
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
        eventBridge: eventBridge.endpoint,
        previews: `${app}${PREVIEW_PATH}`,
        console: `${app}${CONSOLE_PATH}`,
        account: `${app}${ACCOUNT_PATH}`,
      },
      stripeApiKey,
      sandbox,
      webhookEndpoint,
      stepFunctions,
      eventBridge,
      sqs,
      outboxStream: streamHolder.stream,
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
