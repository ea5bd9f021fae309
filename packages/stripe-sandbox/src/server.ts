// The HTTP front door: API-key auth, injected faults, Stripe's rate limits, idempotency keys, routing,
// Stripe's JSON error envelope and headers for /v1; hosted pages under /i, /p, /receipts; control
// under /_sandbox.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { KNOWN_API_VERSIONS, type Core } from './core.ts';
import { authenticationError, faultError, invalidApiVersion, idempotencyEndpointMismatch, idempotencyMismatch, StripeApiError, unrecognizedUrl } from './errors.ts';
import { decodeForm, type FormValue } from './form.ts';
import { customerRoutes } from './handlers/customers.ts';
import { catalogRoutes } from './handlers/catalog.ts';
import { subscriptionRoutes } from './handlers/subscriptions.ts';
import { invoiceRoutes } from './handlers/invoices.ts';
import { paymentRoutes } from './handlers/payments.ts';
import { testClockRoutes } from './handlers/testClocks.ts';
import { billingPortalRoutes } from './handlers/billingPortal.ts';
import { eventRoutes } from './handlers/events.ts';
import { webhookEndpointRoutes } from './handlers/webhookEndpoints.ts';
import { newId } from './ids.ts';
import { Params } from './params.ts';
import { handlePage } from './portal.ts';
import { updateCardAutomatically } from './wallet.ts';
import { RATE_LIMITS_SYNTAX, type RateLimiter, type RateLimitSetting } from './rate-limits.ts';
import type { RequestCounter } from './request-stats.ts';
import { match, route, type Route } from './router.ts';

// Search takes Stripe's query language, which this sandbox does not parse; without these the
// `/search` segment would read as an object id and answer "No such customer: 'search'".
const UNSUPPORTED: Route[] = ['customers', 'subscriptions', 'invoices', 'prices', 'products', 'charges', 'payment_intents'].map((r) =>
  route('GET', `/v1/${r}/search`, ({ method, path }) => {
    throw unrecognizedUrl(method, path);
  }),
);

const ROUTES: Route[] = [
  ...UNSUPPORTED,
  ...customerRoutes,
  ...catalogRoutes,
  ...subscriptionRoutes,
  ...invoiceRoutes,
  ...paymentRoutes,
  ...testClockRoutes,
  ...billingPortalRoutes,
  ...eventRoutes,
  ...webhookEndpointRoutes,
];

const MAX_BODY_BYTES = 1024 * 1024;

/** Stripe's limiter and what the API was asked: the 429s a burst earns, and the figures a benchmark reads. */
export interface Traffic {
  limiter: RateLimiter;
  requests: RequestCounter;
}

/**
 * Test helpers (test clocks) move the sandbox's time: a harness that drives a month of renewals
 * through them is not the integration's traffic, so they are neither limited nor counted.
 */
function isApiTraffic(path: string): boolean {
  return !path.startsWith('/v1/test_helpers/');
}

export const rateLimitsBody = z.union([
  z.object({ preset: z.enum(['test', 'live', 'off']) }).strict(),
  z.object({ global: z.number().int().positive(), perEndpoint: z.number().int().positive() }).strict(),
]);

export interface FaultSpec {
  method?: string;
  path: RegExp | string;
  status: 429 | 500 | 502 | 503;
  count: number;
}

interface ArmedFault {
  method: string | undefined;
  path: RegExp;
  status: 429 | 500 | 502 | 503;
  remaining: number;
}

export const faultBody = z.object({
  method: z.string().optional(),
  path: z.string().min(1),
  status: z.union([z.literal(429), z.literal(500), z.literal(502), z.literal(503)]),
  count: z.number().int().positive(),
});

export class Faults {
  private armed: ArmedFault[] = [];

  add(spec: FaultSpec): void {
    this.armed.push({
      method: spec.method?.toUpperCase(),
      // A string is a regular expression source, so JSON callers can express the same matches.
      path: typeof spec.path === 'string' ? new RegExp(spec.path) : spec.path,
      status: spec.status,
      remaining: spec.count,
    });
  }

  clear(): void {
    this.armed = [];
  }

  /** Consumes one matching fault (of the given kind, if any), if one is armed for this request. */
  take(method: string, path: string, kind?: 'rate_limit' | 'server'): 429 | 500 | 502 | 503 | undefined {
    const fault = this.armed.find((f) => {
      f.path.lastIndex = 0; // a /g regex would otherwise remember where it last matched
      if (kind && (f.status === 429) !== (kind === 'rate_limit')) return false;
      return f.remaining > 0 && (!f.method || f.method === method) && f.path.test(path);
    });
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.armed = this.armed.filter((f) => f.remaining > 0);
    return fault.status;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function apiKeyOf(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const [scheme, value] = header.split(/\s+/, 2);
  if (!value) return null;
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') return Buffer.from(value, 'base64').toString('utf8').split(':')[0] ?? null;
  return null;
}

function canonical(value: FormValue): unknown {
  if (typeof value === 'string' || Array.isArray(value)) return Array.isArray(value) ? value.map(canonical) : value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, canonical(value[k]!)]),
  );
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  res.writeHead(status, { 'Content-Length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

export function createRequestHandler(core: Core, faults: Faults, traffic: Traffic): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(core, faults, traffic, req, res).catch((err: unknown) => {
      core.log(`stripe-sandbox: ${req.method} ${req.url} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) {
        send(res, 500, { 'Content-Type': 'application/json' }, JSON.stringify({ error: faultError(500).body }, null, 2));
      } else {
        res.end();
      }
    });
  };
}

async function handle(core: Core, faults: Faults, traffic: Traffic, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname;
  const raw = method === 'GET' || method === 'HEAD' ? '' : await readBody(req);

  if (path.startsWith('/_sandbox/')) {
    control(core, faults, traffic, method, path, url.searchParams, raw, res);
    return;
  }
  if (!path.startsWith('/v1/')) {
    const page = handlePage(core, method, path, new URLSearchParams(raw));
    if (page) {
      core.store.scheduleSave();
      send(res, page.status, page.headers, page.body);
      return;
    }
  }
  api(core, faults, traffic, req, res, method, path, method === 'POST' ? raw : url.search.slice(1));
}

const cardExpiryBody = z.object({
  exp_month: z.number().int().min(1).max(12),
  exp_year: z.number().int().min(2000).max(2100),
  /** How the reissued card charges from now on, as a test token (e.g. pm_card_visa); unchanged if absent. */
  reissued_as: z.string().startsWith('pm_card_').optional(),
});

/** A control request's JSON body checked against `schema`, or what to answer (400) when it is not. */
function controlBody<S extends z.ZodType>(raw: string, schema: S, shape: string): { success: true; data: z.output<S> } | { success: false; error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw || '{}');
  } catch {
    return { success: false, error: `body must be JSON: ${shape}` };
  }
  const result = schema.safeParse(parsed);
  return result.success ? { success: true, data: result.data } : { success: false, error: result.error.message };
}

function control(core: Core, faults: Faults, traffic: Traffic, method: string, path: string, query: URLSearchParams, raw: string, res: ServerResponse): void {
  const json = (status: number, body: unknown) => send(res, status, { 'Content-Type': 'application/json' }, JSON.stringify(body));
  if (path === '/_sandbox/health' && method === 'GET') return json(200, { status: 'ok' });
  const autoUpdate = /^\/_sandbox\/payment_methods\/([^/]+)\/automatically_update$/.exec(path);
  if (autoUpdate && method === 'POST') {
    const expiry = controlBody(raw, cardExpiryBody, '{exp_month, exp_year, reissued_as?}');
    if (!expiry.success) return json(400, { error: expiry.error });
    try {
      const pm = updateCardAutomatically(core, autoUpdate[1]!, expiry.data);
      core.store.scheduleSave();
      return json(200, pm);
    } catch (err) {
      if (err instanceof StripeApiError) return json(err.status, { error: err.body });
      throw err;
    }
  }
  if (path === '/_sandbox/faults' && method === 'POST') {
    const spec = controlBody(raw, faultBody, '{method?, path, status, count}');
    if (!spec.success) return json(400, { error: spec.error });
    faults.add(spec.data);
    return json(200, { ok: true });
  }
  if (path === '/_sandbox/faults' && method === 'DELETE') {
    faults.clear();
    return json(200, { ok: true });
  }
  if (path === '/_sandbox/rate_limits' && method === 'GET') return json(200, { limits: traffic.limiter.current ?? null });
  if (path === '/_sandbox/rate_limits' && method === 'POST') {
    const body = controlBody(raw, rateLimitsBody, `{preset: "test" | "live" | "off"} or {global, perEndpoint} (${RATE_LIMITS_SYNTAX})`);
    if (!body.success) return json(400, { error: body.error });
    const setting: RateLimitSetting = 'preset' in body.data ? body.data.preset : body.data;
    traffic.limiter.set(setting);
    return json(200, { limits: traffic.limiter.current ?? null });
  }
  if (path === '/_sandbox/requests' && method === 'GET') {
    const stats = traffic.requests.read();
    if (query.get('reset') === 'true') traffic.requests.reset();
    return json(200, stats);
  }
  if (path === '/_sandbox/requests' && method === 'DELETE') {
    traffic.requests.reset();
    return json(200, { ok: true });
  }
  return json(404, { error: `no sandbox control endpoint ${method} ${path}` });
}

function api(core: Core, faults: Faults, traffic: Traffic, req: IncomingMessage, res: ServerResponse, method: string, path: string, encoded: string): void {
  const requestId = newId('req');
  const asked = typeof req.headers['stripe-version'] === 'string' ? req.headers['stripe-version'] : undefined;
  const version = asked ?? core.settings.defaultApiVersion;
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Request-Id': requestId,
    'Stripe-Version': version,
    'Cache-Control': 'no-cache, no-store',
  };
  const idempotencyKey = method === 'POST' && typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;

  const replyError = (err: StripeApiError) => {
    const body = { ...err.body, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}?t=${Math.floor(Date.now() / 1000)}` };
    return { status: err.status, text: JSON.stringify({ error: body }, null, 2) };
  };

  const key = apiKeyOf(req);
  if (key === null || !/^(sk|rk)_test_/.test(key)) {
    const e = replyError(authenticationError(key));
    return send(res, e.status, headers, e.text);
  }
  if (asked !== undefined && !KNOWN_API_VERSIONS.has(asked)) {
    const e = replyError(invalidApiVersion(asked));
    return send(res, e.status, { ...headers, 'Stripe-Version': core.settings.defaultApiVersion }, e.text);
  }
  // The rate limiter answers before any endpoint runs, so its 429 is never saved under a key. An
  // endpoint is the method and the route, so reads of different invoices share one limit.
  const found = match(ROUTES, method, path);
  const endpoint = `${method} ${found?.template ?? '(unrecognized URL)'}`;
  const counted = isApiTraffic(path);
  const injected = faults.take(method, path, 'rate_limit');
  if (injected) {
    if (counted) traffic.requests.record(endpoint, 'injected');
    const e = replyError(faultError(injected));
    return send(res, e.status, headers, e.text);
  }
  if (counted) {
    const refused = traffic.limiter.admit(endpoint);
    traffic.requests.record(endpoint, refused);
    if (refused) {
      const e = replyError(faultError(429));
      return send(res, e.status, { ...headers, 'Stripe-Rate-Limited-Reason': refused }, e.text);
    }
  }

  const form = decodeForm(encoded);
  const paramsHash = createHash('sha256').update(JSON.stringify(canonical(form))).digest('hex');
  if (idempotencyKey) {
    const previous = core.store.idempotencyRecord(idempotencyKey);
    if (previous) {
      let mismatch: StripeApiError | undefined;
      if (previous.method !== method || previous.path !== path) {
        mismatch = idempotencyEndpointMismatch(idempotencyKey, previous.path, path);
      } else if (previous.paramsHash !== paramsHash) {
        mismatch = idempotencyMismatch(idempotencyKey);
      }
      if (mismatch) {
        const e = replyError(mismatch);
        return send(res, e.status, headers, e.text);
      }
      return send(res, previous.status, { ...headers, 'Idempotent-Replayed': 'true', 'Original-Request': previous.requestId }, previous.body);
    }
  }

  let status = 200;
  let text: string;
  core.request = { id: requestId, idempotencyKey };
  // A 5xx is a failure inside the endpoint: like Stripe, it is saved under the idempotency key below
  // and replayed to every retry that reuses the key.
  const serverFault = found ? faults.take(method, path, 'server') : undefined;
  try {
    if (serverFault) throw faultError(serverFault);
    if (!found) throw unrecognizedUrl(method, path);
    const body = found.handler({ core, method, path, args: found.args, params: new Params(form) });
    text = JSON.stringify(body, null, 2);
  } catch (err) {
    if (!(err instanceof StripeApiError)) throw err;
    const e = replyError(err);
    status = e.status;
    text = e.text;
  } finally {
    core.request = { id: null, idempotencyKey: null };
  }

  // Stripe saves the outcome once the endpoint started executing; failed validation is not saved.
  const validationFailure = status === 400 && /"code": "parameter_/.test(text);
  if (idempotencyKey && found && (status < 400 || status >= 500 || status === 402 || status === 404 || (status === 400 && !validationFailure))) {
    core.store.saveIdempotency(idempotencyKey, { method, path, paramsHash, status, body: text, requestId, createdMs: Date.now() });
  }
  if (method !== 'GET') core.store.scheduleSave();
  send(res, status, headers, text);
}
