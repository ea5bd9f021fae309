// Every AWS call a local function makes passes through here before it reaches the local service:
// the function is known by the access key of its role session (each function's worker gets its own,
// as each Lambda gets its role's credentials), the request is read for what AWS would authorize, and
// IAM is evaluated against that function's synthesized policy. A call the role does not allow is
// answered as AWS answers it (AccessDeniedException in the service's protocol); an allowed one is
// forwarded unchanged. The signature is not verified: the key only names the caller.
import { randomBytes } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { addressedToSelf, listen, serviceOf } from '../http-service.ts';
import type { IamEvaluator, IamPrincipal } from './iam.ts';
import { accessDenied, iamRequestsOf, UnknownRequestError, type ResourceNames } from './iam-requests.ts';
import type { IamUsage } from './iam-usage.ts';

export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** One AWS call a function made, as the gateway forwarded it (for measurement, never for the product). */
export interface AwsCall {
  principal: string;
  /** The signing name: dynamodb, ses, states, secretsmanager. */
  service: string;
  /** `X-Amz-Target`, for the JSON protocols. */
  target?: string;
  status: number;
  request: unknown;
  response: unknown;
}

/**
 * A measurement tap (the bench's cost model): it may rewrite an allowed request's JSON body before
 * it is forwarded (to ask DynamoDB for the capacity it consumed), and it sees each answer.
 */
export interface AwsCallTap {
  rewrite?(call: Pick<AwsCall, 'principal' | 'service' | 'target' | 'request'>): unknown;
  answered(call: AwsCall): void;
}

export interface IamGatewayOptions {
  host: string;
  /** The local service behind each signing name: dynamodb, ses, states, secretsmanager. */
  upstreams: Readonly<Record<string, string>>;
  names: ResourceNames;
  evaluator: IamEvaluator;
  usage: IamUsage;
  tap?: AwsCallTap;
}

export interface IamGateway {
  /** The one endpoint every AWS_ENDPOINT_URL_* of the functions points at. */
  readonly endpoint: string;
  /** Issues the credentials of `principal`'s role session; calls signed with them act as it. */
  credentialsFor(principal: IamPrincipal): RoleCredentials;
  close(): Promise<void>;
}

export async function startIamGateway(options: IamGatewayOptions): Promise<IamGateway> {
  const principals = new Map<string, IamPrincipal>();
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ __type: 'InternalFailure', message: (error as Error).message }));
    });
  });

  let self = '';
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!addressedToSelf(req, self)) {
      req.resume();
      return answer(res, { status: 403, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'not addressed to this endpoint' }) });
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const scope = /Credential=([^/,\s]+)\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
    const [, accessKeyId, service] = scope ?? [];
    const principal = accessKeyId ? principals.get(accessKeyId) : undefined;
    if (!principal || !service) {
      return answer(res, {
        status: 403,
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'UnrecognizedClientException' },
        body: JSON.stringify({ __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }),
      });
    }
    const upstream = options.upstreams[service];
    let requests;
    const target = header(req, 'x-amz-target');
    const parsed = parseJson(body);
    try {
      if (!upstream) throw new UnknownRequestError(`no local service stands in for "${service}"`);
      const url = new URL(req.url ?? '/', 'http://local');
      requests = iamRequestsOf({ service, method: req.method ?? 'GET', path: url.pathname, target, body: parsed }, options.names);
    } catch (error) {
      // Fail closed, loudly: an operation the check cannot read is never let through unchecked.
      const message = `${(error as Error).message} (local IAM check, function ${principal.name})`;
      options.usage.denied(principal.name, service, message);
      return answer(res, accessDenied(service, message));
    }
    const decision = await options.evaluator.authorize(principal, requests);
    if (!decision.allowed) {
      options.usage.denied(principal.name, requests[0]!.action, decision.message);
      return answer(res, accessDenied(service, decision.message));
    }
    for (const request of requests) options.usage.allowed(principal.name, request.action);
    const tap = options.tap;
    if (!tap) {
      await forward(req, res, upstream!, body);
      return;
    }
    const rewritten = tap.rewrite?.({ principal: principal.name, service, target, request: parsed });
    const sent = rewritten === undefined ? body : Buffer.from(JSON.stringify(rewritten));
    const upstreamAnswer = await forward(req, res, upstream!, sent, true);
    tap.answered({ principal: principal.name, service, target, status: upstreamAnswer.status, request: rewritten ?? parsed, response: parseJson(upstreamAnswer.body) });
  }

  /** Forwards the request upstream; with `keep`, also returns the answer's body (for the tap). */
  function forward(req: IncomingMessage, res: ServerResponse, upstream: string, body: Buffer, keep = false): Promise<{ status: number; body: Buffer }> {
    const url = new URL(req.url ?? '/', upstream);
    const headers = { ...req.headers, host: url.host, 'content-length': String(body.length) };
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest(url, { method: req.method, headers, agent }, (incoming) => {
        const status = incoming.statusCode ?? 502;
        res.writeHead(status, incoming.headers);
        const kept: Buffer[] = [];
        if (keep) incoming.on('data', (chunk: Buffer) => kept.push(chunk));
        incoming.pipe(res);
        incoming.on('end', () => resolve({ status, body: Buffer.concat(kept) }));
        incoming.on('error', reject);
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }

  await listen(server, 0, options.host);
  const service = serviceOf(server);
  self = service.endpoint;
  return {
    endpoint: service.endpoint,
    credentialsFor(principal) {
      // As Lambda's role session credentials: a temporary key (ASIA…), a secret and a session token.
      const credentials = {
        accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
        secretAccessKey: randomBytes(30).toString('base64url'),
        sessionToken: randomBytes(48).toString('base64url'),
      };
      principals.set(credentials.accessKeyId, principal);
      return credentials;
    },
    async close() {
      agent.destroy();
      await service.close();
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return {};
  }
}

function answer(res: ServerResponse, reply: { status: number; headers: Record<string, string>; body: string }): void {
  res.writeHead(reply.status, { ...reply.headers, 'x-amzn-requestid': randomBytes(16).toString('hex') });
  res.end(reply.body);
}
