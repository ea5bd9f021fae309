// The runtime's one HTTP port: the Function URLs (webhook, banner, payment link) as Lambda's Function
// URLs invoke them, and the local-only pages and endpoints (console, My Account, previews, cases,
// published events, SES events), which answer only requests addressed to this runtime.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyStructuredResultV2 as FunctionUrlResponse, LambdaFunctionURLEvent, SNSEvent } from 'aws-lambda';
import type { DunningFunctionName } from '#infra/constructs/dunning-function.ts';
import type { CaseStore } from '#shared/domain/ports.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './aws/deployment.ts';
import type { LocalEventBridge } from './aws/eventbridge.ts';
import { FunctionError, type LocalLambda } from './aws/lambda.ts';
import type { LocalConfig } from './config.ts';
import { addressedToSelf } from './http-service.ts';
import { PREVIEW_PATH, servePreviews } from './preview/serve.ts';
import { DISCOVERY_PATH, type LocalDiscovery } from './discovery.ts';
import { CONSOLE_PATH, serveConsole } from './console.ts';
import { isAccountPath, serveAccount } from './account.ts';

export const LOCAL_EMAIL_EVENTS_TOPIC_ARN = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:dunning-email-events`;

/** Hears each webhook delivery's answer. */
export type WebhookListener = (event: { status: number; body: Record<string, unknown> }) => void;

export interface Routes {
  /** The runtime's own address, which local-only requests must name as Host. */
  self: string;
  lambda: LocalLambda;
  onWebhook?: WebhookListener;
  store: CaseStore;
  policies: PolicySet;
  discovery: LocalDiscovery;
  sesInbox: string;
  /** The events the functions published, as the local EventBridge keeps them. */
  events: LocalEventBridge['events'];
}

export async function route(req: IncomingMessage, res: ServerResponse, routes: Routes | undefined, config: LocalConfig): Promise<void> {
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
    return serveConsole(url, res, { store: routes.store, sesInbox: routes.sesInbox, policies: routes.policies, origin: routes.self, events: () => routes.events() });
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
  const api = /^\/customers\/[^/]+\/(notice|access)\/?$/.exec(url.pathname)?.[1];
  if (api) {
    // The banner and access APIs' Function URLs want SigV4 in AWS; locally, the bearer token.
    if (!bearerMatches(req.headers.authorization, config.bannerToken)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': `Bearer realm="dunning-${api}-api"` });
      res.end(JSON.stringify({ error: 'send Authorization: Bearer <DUNNING_BANNER_TOKEN>' }));
      return;
    }
    return sendResult(res, await invokeUrl(routes.lambda, api === 'notice' ? 'get-notice' : 'get-access', functionUrlEvent(req, url, body)));
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
  if (url.pathname === '/events' && req.method === 'GET') {
    const filter = { customer: url.searchParams.get('customer') ?? undefined, detailType: url.searchParams.get('detailType') ?? undefined };
    return send(res, 200, routes.events(filter).map(({ source, detailType, detail, time }) => ({ source, detailType, detail, time })));
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
    path === '/events' ||
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
