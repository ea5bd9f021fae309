// Gate your app on the dunning access API, GET /customers/{id}/access (see README.md next to this
// file). No dependency beyond Express's types and the global fetch of Node 20:
//
//   app.use('/app', requireAccess({
//     baseUrl: 'http://127.0.0.1:3000',              // or the access API's Function URL in AWS
//     token: process.env.DUNNING_BANNER_TOKEN,        // locally; in AWS pass `sign` instead
//     customerOf: (req) => req.session?.stripeCustomerId,
//   }));
//
// The customer id must come from the signed-in user's session, never from the request itself.
import type { NextFunction, Request, RequestHandler, Response as ExpressResponse } from 'express';

export type AccessLevel = 'full' | 'grace' | 'limited' | 'none';

/** What GET /customers/{id}/access answers. */
export interface AccessAnswer {
  access: AccessLevel;
  reason: string;
  since: string | null;
  /** When it changes next if nothing happens (ISO 8601), or null. */
  until: string | null;
  subscriptions: Array<{ subscription: string; access: AccessLevel; invoice: string | null; stage: string | null }>;
}

export interface AccessOptions {
  /** The access API: the local runtime (http://127.0.0.1:3000) or the Function URL in AWS. */
  baseUrl: string;
  /** Locally: DUNNING_BANNER_TOKEN, sent as `Authorization: Bearer …`. */
  token?: string;
  /** In AWS: signs the request (SigV4, service `lambda`) and returns the headers to add. */
  sign?: (request: { url: string; headers: Record<string, string> }) => Promise<Record<string, string>>;
  /** The fetch to use; the global one unless given. */
  fetch?: typeof fetch;
  /** Where the one line per outage is written when failing open; console.warn unless given. */
  log?: (line: string) => void;
}

export interface RequireAccessOptions extends AccessOptions {
  /** The signed-in user's Stripe customer id (from the session); nothing gives a 401. */
  customerOf: (req: Request) => string | undefined;
  /** The levels let through. @default ['full', 'grace'] */
  allow?: AccessLevel[];
  /**
   * When given (and it names a subscription), gate on that subscription's access, from
   * `subscriptions`; a subscription not listed there is `full`. Otherwise the top-level access.
   */
  subscriptionOf?: (req: Request) => string | undefined;
  /**
   * On a network error, a 5xx or an unreadable answer: true lets the request through (with
   * `res.locals.access` null) and logs once per outage; false answers 503. @default true
   */
  failOpen?: boolean;
}

/** The access API could not be reached, answered 5xx, or answered something unreadable. */
export class AccessUnavailableError extends Error {
  override readonly name = 'AccessUnavailableError';
  constructor(
    message: string,
    /** The HTTP status, when the API answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The access API refused the request (a 4xx): the token, the signature or the customer id is wrong. */
export class AccessRequestError extends Error {
  override readonly name = 'AccessRequestError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const LEVELS: readonly AccessLevel[] = ['full', 'grace', 'limited', 'none'];
const DEFAULT_ALLOW: readonly AccessLevel[] = ['full', 'grace'];
/** How long an answer with `until: null` is kept. */
const NULL_UNTIL_MAX_AGE_MS = 60_000;

const cache = new Map<string, { answer: AccessAnswer; expiresAt: number }>();
const inFlight = new Map<string, Promise<AccessAnswer>>();
/** The base URLs whose outage has been logged, until they answer again. */
const outages = new Set<string>();

function apiBase(options: AccessOptions): string {
  return options.baseUrl.replace(/\/+$/, '');
}

function cacheKey(options: AccessOptions, customerId: string): string {
  return `${apiBase(options)}\n${customerId}`;
}

/**
 * Forgets cached answers: all of them, or one customer's (e.g. from your own webhook handler when
 * you know their access changed, such as an invoice paid while `limited`).
 */
export function clearAccessCache(customerId?: string): void {
  if (customerId === undefined) {
    cache.clear();
    outages.clear();
    return;
  }
  for (const key of cache.keys()) if (key.endsWith(`\n${customerId}`)) cache.delete(key);
}

/**
 * The customer's access, from the cache while it holds (until the answer's `until`, never past it;
 * at most 60 s for `until: null`), else from the API. Throws AccessUnavailableError on a network
 * error, a 5xx or an unreadable answer (never cached), AccessRequestError on another non-200.
 */
export async function accessOf(options: AccessOptions, customerId: string): Promise<AccessAnswer> {
  const key = cacheKey(options, customerId);
  const cached = cache.get(key);
  if (cached && Date.now() < cached.expiresAt) return cached.answer;
  if (cached) cache.delete(key);

  const pending = inFlight.get(key);
  if (pending) return pending;
  const request = fetchAccess(options, customerId)
    .then((answer) => {
      const expiresAt = expiryOf(answer, Date.now());
      if (expiresAt !== undefined) cache.set(key, { answer, expiresAt });
      outages.delete(apiBase(options));
      return answer;
    })
    .finally(() => inFlight.delete(key));
  inFlight.set(key, request);
  return request;
}

/**
 * A restricted answer (limited or none, on top or on any subscription) is kept at most 10 s: the
 * customer may pay any moment, and must get their access back as soon as the API says so.
 */
const RESTRICTED_MAX_AGE_MS = 10_000;

/**
 * Until `until`, never past it; `until: null` (or unreadable) at most 60 s; a restricted answer at
 * most 10 s; an `until` already past: not cached.
 */
function expiryOf(answer: AccessAnswer, now: number): number | undefined {
  const until = answer.until === null ? NaN : Date.parse(answer.until);
  let expiresAt = Number.isNaN(until) ? now + NULL_UNTIL_MAX_AGE_MS : until;
  const restricted = [answer.access, ...(answer.subscriptions ?? []).map((s) => s.access)].some((level) => level === 'limited' || level === 'none');
  if (restricted) expiresAt = Math.min(expiresAt, now + RESTRICTED_MAX_AGE_MS);
  return expiresAt > now ? expiresAt : undefined;
}

async function fetchAccess(options: AccessOptions, customerId: string): Promise<AccessAnswer> {
  const url = `${apiBase(options)}/customers/${encodeURIComponent(customerId)}/access`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const doFetch = options.fetch ?? fetch;

  let response: Response;
  try {
    if (options.sign) Object.assign(headers, await options.sign({ url, headers: { ...headers } }));
    response = await doFetch(url, { headers });
  } catch (error) {
    const reason = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
    throw new AccessUnavailableError(`could not reach the access API at ${url}: ${reason}`);
  }
  if (response.status >= 500) {
    const body = (await response.text().catch(() => '')).slice(0, 300);
    throw new AccessUnavailableError(`the access API answered ${response.status} for ${url}: ${body}`, response.status);
  }
  if (response.status !== 200) {
    const body = (await response.text().catch(() => '')).slice(0, 300);
    throw new AccessRequestError(`the access API answered ${response.status} for ${url}: ${body}`, response.status);
  }
  let answer: unknown;
  try {
    answer = await response.json();
  } catch (error) {
    throw new AccessUnavailableError(`the access API answered unreadable JSON for ${url}: ${(error as Error).message}`, response.status);
  }
  if (!isAccessAnswer(answer)) throw new AccessUnavailableError(`the access API answered an unexpected shape for ${url}`, response.status);
  return answer;
}

function isAccessAnswer(value: unknown): value is AccessAnswer {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    LEVELS.includes(v.access as AccessLevel) &&
    (v.until === null || typeof v.until === 'string') &&
    Array.isArray(v.subscriptions) &&
    v.subscriptions.every(
      (s: unknown) =>
        typeof s === 'object' &&
        s !== null &&
        typeof (s as Record<string, unknown>).subscription === 'string' &&
        LEVELS.includes((s as Record<string, unknown>).access as AccessLevel),
    )
  );
}

/** The level to gate on: the named subscription's (full when not listed), else the top level. */
export function levelOf(answer: AccessAnswer, subscriptionId?: string): AccessLevel {
  if (!subscriptionId) return answer.access;
  return answer.subscriptions.find((s) => s.subscription === subscriptionId)?.access ?? 'full';
}

/** The answer names no reason per subscription: say which one, and its case's stage. */
function subscriptionReason(answer: AccessAnswer, subscriptionId: string, level: AccessLevel): string {
  const entry = answer.subscriptions.find((s) => s.subscription === subscriptionId);
  const stage = entry?.stage ? ` (invoice ${entry.invoice ?? 'unknown'}, stage ${entry.stage})` : '';
  return `subscription ${subscriptionId} has ${level} access${stage}`;
}

/**
 * Express middleware: lets the request through when the signed-in customer's access is in `allow`,
 * with the answer on `res.locals.access`; 401 without a customer; 403 `{ error: 'access', access,
 * reason }` otherwise. See RequireAccessOptions for per-subscription gating and failing open.
 */
export function requireAccess(options: RequireAccessOptions): RequestHandler {
  const allow = options.allow ?? DEFAULT_ALLOW;
  const failOpen = options.failOpen ?? true;
  const log = options.log ?? ((line: string) => console.warn(line));

  return async (req: Request, res: ExpressResponse, next: NextFunction) => {
    const customerId = options.customerOf(req);
    if (!customerId) {
      res.status(401).json({ error: 'unauthenticated' });
      return;
    }
    let answer: AccessAnswer;
    try {
      answer = await accessOf(options, customerId);
    } catch (error) {
      if (error instanceof AccessUnavailableError) {
        if (failOpen) {
          const base = apiBase(options);
          if (!outages.has(base)) {
            outages.add(base);
            log(`access: letting requests through (failOpen) until the access API answers again: ${error.message}`);
          }
          res.locals.access = null;
          next();
          return;
        }
        res.status(503).set('retry-after', '5').json({ error: 'access unavailable' });
        return;
      }
      // A 4xx from the access API is a configuration fault (token, signature, role): never let it
      // through silently.
      next(error);
      return;
    }
    res.locals.access = answer;
    const subscriptionId = options.subscriptionOf?.(req);
    const level = levelOf(answer, subscriptionId);
    if (!allow.includes(level)) {
      const reason = subscriptionId ? subscriptionReason(answer, subscriptionId, level) : answer.reason;
      res.status(403).json({ error: 'access', access: level, reason });
      return;
    }
    next();
  };
}
