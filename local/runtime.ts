// Starts the whole product on loopback: dynalite, SES v2, the Stripe sandbox, Step Functions running
// the generated definition, and the same handlers the Lambdas run, configured through their environment.
import './untraced.ts';
import './polyfills.ts';
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { APIGatewayProxyStructuredResultV2 as FunctionUrlResponse, Context, LambdaFunctionURLEvent, SNSEvent } from 'aws-lambda';
import { ENV } from '#shared/config.ts';
import { createDynamoDocumentClient } from '#shared/adapters/aws-clients.ts';
import { DynamoCaseStore } from '#shared/adapters/dynamodb-case-store.ts';
import type { CaseStore } from '#shared/domain/ports.ts';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { DEFAULT_POLICY_FILE, loadPolicySetFile } from '#shared/policy/load.ts';
import type { Policy } from '#shared/policy/schema.ts';
import { DEFAULT_POLICY_NAME, type PolicySet } from '#shared/policy/segments.ts';
import { buildDefinition, policyStateName, type StageFunctionArns, type StateMachineDefinition } from '#shared/workflow/definition.ts';
import type { LocalConfig } from './config.ts';
import { LOCAL_STRIPE_KEY } from './config.ts';
import { ensureTable, startDynamoDb } from './dynamodb.ts';
import { startSesLocal } from './ses.ts';
import { listen, serviceOf } from './http-service.ts';
import { lambdaContext } from './lambda-context.ts';
import { startLocalStepFunctions, statusChangeEvent, type LocalExecution, type LocalStepFunctions, type TaskHandler } from './stepfunctions.ts';
import { FLAGGED_STATUSES } from '#shared/dunning/failed-execution.ts';
import { startStripeSandbox, type StripeSandbox, type WebhookTarget } from './stripe-sandbox/index.ts';
import { PREVIEW_PATH, servePreviews } from './preview/serve.ts';
import { DISCOVERY_PATH, type LocalDiscovery } from './discovery.ts';
import { CONSOLE_PATH, serveConsole } from './console.ts';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
export const LOCAL_STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:dunning-local`;
export const LOCAL_EMAIL_EVENTS_TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:dunning-email-events`;
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
export const LOCAL_FUNCTION_ARNS: StageFunctionArns = {
  sendNotice: functionArn('send-notice'),
  retryPayment: functionArn('retry-payment'),
  closeCase: functionArn('close-case'),
};

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
}

export interface Runtime {
  config: LocalConfig;
  /** The `default` policy. */
  policy: Policy;
  /** Every policy of DUNNING_POLICY_FILE, with its segments and alsoNotify. */
  policies: PolicySet;
  definition: StateMachineDefinition;
  urls: { app: string; webhook: string; ses: string; dynamodb: string; stripe: string; stepFunctions: string; previews: string; console: string };
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

type UrlHandler = (event: LambdaFunctionURLEvent, context?: Context) => Promise<FunctionUrlResponse>;
type SnsHandler = (event: SNSEvent, context?: Context) => Promise<unknown>;

export async function startRuntime(config: LocalConfig, events: RuntimeEvents = {}): Promise<Runtime> {
  const policies = loadPolicySetFile(config.policyFile ?? DEFAULT_POLICY_FILE);
  const policy = policies.policies[DEFAULT_POLICY_NAME]!;
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    if (config.dataDir) mkdirSync(config.dataDir, { recursive: true });
    const dynamo = await startDynamoDb({
      port: config.dynamoDbPort,
      host: config.host,
      dataDir: config.dataDir ? join(config.dataDir, 'dynamodb') : undefined,
    });
    closers.push(dynamo.close);
    const ses = await startSesLocal({ port: config.sesPort, host: config.host });
    closers.push(ses.close);

    let sandbox: StripeSandbox | undefined;
    let stripeApiBase: string | undefined;
    const stripeApiKey = config.stripeApiKey ?? LOCAL_STRIPE_KEY;
    if (!config.stripeApiKey) {
      sandbox = await startStripeSandbox({
        port: config.stripePort,
        host: config.host,
        dataDir: config.dataDir,
        automaticRetryDays: config.stripeRetryDays,
      });
      closers.push(() => sandbox!.close());
      stripeApiBase = sandbox.url;
    }

    // The handlers read exactly the variables CDK sets in AWS, plus loopback endpoints for the SDK.
    Object.assign(process.env, {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_SERVICE_NAME: 'dunning-local',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      [ENV.tableName]: config.tableName,
      [ENV.sender]: config.sender,
      [ENV.stripeApiKey]: stripeApiKey,
      [ENV.stripeWebhookSecret]: config.webhookSecret,
      [ENV.policyJson]: JSON.stringify(policies),
      [ENV.stateMachineArn]: LOCAL_STATE_MACHINE_ARN,
      [ENV.linkSigningKey]: config.linkSigningKey,
    });
    if (config.replyTo) process.env[ENV.replyTo] = config.replyTo;
    if (stripeApiBase) process.env[ENV.stripeApiBase] = stripeApiBase;
    else delete process.env[ENV.stripeApiBase];

    const documentClient = createDynamoDocumentClient({});
    await ensureTable(documentClient, config.tableName);
    const store = new DynamoCaseStore(documentClient, config.tableName);

    // Imported only now: the handlers read their environment when first invoked, as in Lambda.
    const [webhook, sendNotice, retryPayment, closeCase, getNotice, openPaymentLink, recordEmailEvent, flagCase] = await Promise.all([
      import('#functions/handle-webhook/handler.ts'),
      import('#functions/send-notice/handler.ts'),
      import('#functions/retry-payment/handler.ts'),
      import('#functions/close-case/handler.ts'),
      import('#functions/get-notice/handler.ts'),
      import('#functions/open-payment-link/handler.ts'),
      import('#functions/record-email-event/handler.ts'),
      import('#functions/flag-case/handler.ts'),
    ]);

    const definition = buildDefinition(policies, LOCAL_FUNCTION_ARNS);
    // Stopping an execution does not stop a stage already running, as in AWS; shutdown waits for them.
    const inFlight = new Set<Promise<unknown>>();
    const observe = (name: string, fn: (input: never, context: Context) => Promise<unknown>): TaskHandler => {
      return (input: unknown) => {
        const run = invoke(name, fn, input);
        inFlight.add(run);
        void run.catch(() => undefined).finally(() => inFlight.delete(run));
        return run;
      };
    };
    const invoke = async (name: string, fn: (input: never, context: Context) => Promise<unknown>, input: unknown) => {
      const state = (input as { stage?: string; action?: string }).stage ?? String((input as { action?: string }).action);
      const started = performance.now();
      try {
        const output = await fn(input as never, lambdaContext(name));
        await events.onTask?.({ state, input, output, durationMs: performance.now() - started });
        return output;
      } catch (error) {
        await events.onTask?.({ state, input, error: error as Error, durationMs: performance.now() - started });
        throw error;
      }
    };

    const stepFunctions = await startLocalStepFunctions({
      definition,
      stateMachineArn: LOCAL_STATE_MACHINE_ARN,
      handlers: {
        [LOCAL_FUNCTION_ARNS.sendNotice]: observe('send-notice', sendNotice.handler as never),
        [LOCAL_FUNCTION_ARNS.retryPayment]: observe('retry-payment', retryPayment.handler as never),
        [LOCAL_FUNCTION_ARNS.closeCase]: observe('close-case', closeCase.handler as never),
      },
      dayMs: config.dayMs,
      host: config.host,
      onExecutionEnd: (execution) => {
        // The EventBridge rule of AWS, locally: an execution that failed or timed out flags its case
        // through the same handler, with an event of the same shape.
        if ((FLAGGED_STATUSES as readonly string[]).includes(execution.status)) {
          const flagging = (flagCase.handler as (event: unknown, context: Context) => Promise<unknown>)(
            statusChangeEvent(execution, LOCAL_STATE_MACHINE_ARN),
            lambdaContext('flag-case'),
          ).catch((error: unknown) => console.error(`flag-case: ${(error as Error).message}`));
          inFlight.add(flagging);
          void flagging.finally(() => inFlight.delete(flagging));
        }
        events.onExecutionEnd?.(execution);
      },
    });
    process.env.AWS_ENDPOINT_URL_SFN = stepFunctions.endpoint;

    let discovery: LocalDiscovery | undefined;
    const server = createServer((req, res) => {
      void route(req, res, {
        webhook: webhook.handler as UrlHandler,
        getNotice: getNotice.handler as UrlHandler,
        openPaymentLink: openPaymentLink.handler as UrlHandler,
        bannerToken: config.bannerToken,
        recordEmailEvent: recordEmailEvent.handler as SnsHandler,
        onWebhook: events.onWebhook,
        store,
        policies,
        discovery: () => discovery,
        sesInbox: ses.endpoint,
      }).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (error as Error).message }));
      });
    });
    await listen(server, config.port, config.host, 'DUNNING_PORT');
    const appService = serviceOf(server);
    closers.push(appService.close);
    // Closed first (closers run in reverse): no stage may start while the services go away, and the
    // ones running finish before the stores under them close.
    closers.push(async () => {
      await stepFunctions.close();
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    });
    const app = appService.endpoint;
    // Known only now (the port may be 0); no stage can run before this, as none runs without a webhook.
    process.env[ENV.linkBaseUrl] = app;

    const webhookEndpoint: WebhookTarget = { url: `${app}/webhook`, secret: config.webhookSecret, enabledEvents: HANDLED_EVENT_TYPES };
    sandbox?.setWebhook(webhookEndpoint);
    discovery = {
      product: 'stripe-dunning',
      region: REGION,
      tableName: config.tableName,
      stateMachineArn: LOCAL_STATE_MACHINE_ARN,
      endpoints: { dynamodb: dynamo.endpoint, sesv2: ses.endpoint, sfn: stepFunctions.endpoint },
      stripe: { apiBase: stripeApiBase, apiKey: sandbox ? stripeApiKey : undefined },
      linkBaseUrl: app,
      linkSigningKey: config.linkSigningKey,
      sender: config.sender,
      replyTo: config.replyTo,
      policies,
      sesInbox: ses.endpoint,
      console: `${app}${CONSOLE_PATH}`,
    };
    const resumed = config.dataDir ? await resumeOpenCases(store, stepFunctions, definition) : 0;

    return {
      config,
      policy,
      policies,
      definition,
      resumed,
      urls: {
        app,
        webhook: `${app}/webhook`,
        ses: ses.endpoint,
        dynamodb: dynamo.endpoint,
        stripe: sandbox?.url ?? 'https://api.stripe.com',
        stepFunctions: stepFunctions.endpoint,
        previews: `${app}${PREVIEW_PATH}`,
        console: `${app}${CONSOLE_PATH}`,
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
  webhook: UrlHandler;
  getNotice: UrlHandler;
  openPaymentLink: UrlHandler;
  /** Stands in for the AWS_IAM auth of the notice API's Function URL. */
  bannerToken: string;
  recordEmailEvent: SnsHandler;
  onWebhook?: RuntimeEvents['onWebhook'];
  store: CaseStore;
  policies: PolicySet;
  /** Undefined until every service is up. */
  discovery: () => LocalDiscovery | undefined;
  sesInbox: string;
}

async function route(req: IncomingMessage, res: ServerResponse, routes: Routes): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);

  if (url.pathname === '/health') return send(res, 200, { status: 'ok' });
  if (url.pathname === DISCOVERY_PATH && req.method === 'GET') {
    const discovery = routes.discovery();
    return discovery ? send(res, 200, discovery) : send(res, 503, { error: 'starting' });
  }
  if ((url.pathname === CONSOLE_PATH || url.pathname.startsWith(`${CONSOLE_PATH}/`)) && req.method === 'GET') {
    return serveConsole(url, res, { store: routes.store, sesInbox: routes.sesInbox, policies: routes.policies });
  }
  if ((url.pathname + '/').startsWith(PREVIEW_PATH) && req.method === 'GET') return servePreviews(url.pathname, res);
  if (url.pathname === '/webhook') {
    const result = await routes.webhook(functionUrlEvent(req, url, body), lambdaContext('handle-webhook'));
    if (routes.onWebhook) routes.onWebhook({ status: result.statusCode ?? 200, body: JSON.parse(String(result.body ?? '{}')) });
    return sendResult(res, result);
  }
  if (/^\/customers\/[^/]+\/notice\/?$/.test(url.pathname)) {
    if (!bearerMatches(req.headers.authorization, routes.bannerToken)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="dunning-notice-api"' });
      res.end(JSON.stringify({ error: 'send Authorization: Bearer <DUNNING_BANNER_TOKEN>' }));
      return;
    }
    return sendResult(res, await routes.getNotice(functionUrlEvent(req, url, body), lambdaContext('get-notice')));
  }
  if (url.pathname.startsWith('/u/')) {
    return sendResult(res, await routes.openPaymentLink(functionUrlEvent(req, url, body), lambdaContext('open-payment-link')));
  }
  if (url.pathname === '/ses/events' && req.method === 'POST') {
    // aws-ses-v2-local publishes no events: SES event notifications are POSTed here as SNS posts
    // them to an HTTPS subscriber, and go to the same handler SNS invokes in AWS.
    const event = snsEventOf(body);
    if (!event) return send(res, 400, { error: 'expected an SNS notification: {"Type":"Notification","Message":"<SES event JSON>"}' });
    return send(res, 200, { results: await routes.recordEmailEvent(event, lambdaContext('record-email-event')) });
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
