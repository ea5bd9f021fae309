// The access middleware in examples/access/ (README there): the gate a merchant mounts in front of
// their app, against a fake access API (GET /customers/{id}/access) served here with node:http. What
// it protects: who gets in (the allow list, per subscription), that a signed-out request never
// reaches the API, that answers are cached no longer than their `until`, and that an outage of the
// access API lets customers in (or, with failOpen: false, answers 503) without being cached.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  accessOf,
  AccessRequestError,
  AccessUnavailableError,
  clearAccessCache,
  requireAccess,
  type AccessAnswer,
  type RequireAccessOptions,
} from '../../examples/access/middleware.ts';

const TOKEN = 'test-banner-token';

/** What the fake API answers per customer: an answer, or a status to fail with. */
const answers = new Map<string, AccessAnswer | { status: number }>();
const calls = new Map<string, IncomingMessage['headers'][]>();
let api: Server;
let apiUrl: string;

function answer(access: AccessAnswer['access'], extra: Partial<AccessAnswer> = {}): AccessAnswer {
  return { access, reason: `reason for ${access}`, since: null, until: null, subscriptions: [], ...extra };
}
const callsOf = (customer: string) => calls.get(customer)?.length ?? 0;

beforeAll(async () => {
  api = createServer((req, res) => {
    const match = /^\/customers\/([^/]+)\/access$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !match) return void res.writeHead(404).end();
    const customer = decodeURIComponent(match[1]!);
    calls.set(customer, [...(calls.get(customer) ?? []), req.headers]);
    if (req.headers.authorization !== `Bearer ${TOKEN}` && !req.headers['x-amz-date']) {
      return void res.writeHead(401, { 'content-type': 'text/plain' }).end('Authorization: Bearer <DUNNING_BANNER_TOKEN> required');
    }
    const found = answers.get(customer) ?? answer('full', { reason: 'no case' });
    if ('status' in found) return void res.writeHead(found.status, { 'content-type': 'application/json' }).end('{"error":"stripe unavailable"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(found));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => api.close(() => resolve()));
});

/** An app with the gate on /app; `?as=` stands in for the session, `?sub=` for the subscription. */
async function startApp(overrides: Partial<RequireAccessOptions> = {}): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(
    '/app',
    requireAccess({
      baseUrl: `${apiUrl}/`,
      token: TOKEN,
      customerOf: (req) => (typeof req.query.as === 'string' ? req.query.as : undefined),
      log: () => {},
      ...overrides,
    }),
  );
  app.get('/app/page', (_req, res) => void res.json({ ok: true, access: res.locals.access }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/app/page`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function get(url: string, query: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}?${new URLSearchParams(query)}`);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

let app: Awaited<ReturnType<typeof startApp>> | undefined;
beforeEach(() => {
  clearAccessCache();
  answers.clear();
  calls.clear();
});
afterEach(async () => {
  vi.useRealTimers();
  await app?.close();
  app = undefined;
});

describe('requireAccess lets in only the allowed access levels, never caches past `until`, and fails open when the access API is down', () => {
  it("lets full and grace through with the answer on res.locals.access, sending the bearer token", async () => {
    answers.set('cus_full', answer('full'));
    answers.set('cus_grace', answer('grace', { reason: 'payment failed', until: new Date(Date.now() + 3_600_000).toISOString() }));
    app = await startApp();
    const full = await get(app.url, { as: 'cus_full' });
    expect(full).toEqual({ status: 200, body: { ok: true, access: answer('full') } });
    const grace = await get(app.url, { as: 'cus_grace' });
    expect(grace.status).toBe(200);
    expect(grace.body.access.access).toBe('grace');
    expect(calls.get('cus_full')![0]!.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('answers 403 with the level and reason for limited and none', async () => {
    answers.set('cus_limited', answer('limited', { reason: 'read-only from day 7' }));
    answers.set('cus_none', answer('none', { reason: 'the subscription ended unpaid' }));
    app = await startApp();
    expect(await get(app.url, { as: 'cus_limited' })).toEqual({ status: 403, body: { error: 'access', access: 'limited', reason: 'read-only from day 7' } });
    expect(await get(app.url, { as: 'cus_none' })).toEqual({ status: 403, body: { error: 'access', access: 'none', reason: 'the subscription ended unpaid' } });
  });

  it('takes the allow list as given', async () => {
    answers.set('cus_limited', answer('limited'));
    answers.set('cus_grace', answer('grace'));
    app = await startApp({ allow: ['full', 'limited'] });
    expect((await get(app.url, { as: 'cus_limited' })).status).toBe(200);
    expect((await get(app.url, { as: 'cus_grace' })).body).toMatchObject({ error: 'access', access: 'grace' });
  });

  it("gates on the named subscription's access (unlisted is full), not the top level", async () => {
    answers.set(
      'cus_two',
      answer('full', {
        subscriptions: [
          { subscription: 'sub_paid', access: 'full', invoice: null, stage: null },
          { subscription: 'sub_ended', access: 'none', invoice: 'in_1', stage: 'Terminate' },
        ],
      }),
    );
    app = await startApp({ subscriptionOf: (req) => (typeof req.query.sub === 'string' ? req.query.sub : undefined) });
    expect((await get(app.url, { as: 'cus_two', sub: 'sub_paid' })).status).toBe(200);
    expect((await get(app.url, { as: 'cus_two', sub: 'sub_other' })).status).toBe(200);
    expect((await get(app.url, { as: 'cus_two' })).status).toBe(200);
    const ended = await get(app.url, { as: 'cus_two', sub: 'sub_ended' });
    expect(ended.status).toBe(403);
    expect(ended.body).toMatchObject({ error: 'access', access: 'none' });
    expect(ended.body.reason).toContain('sub_ended');
    expect(callsOf('cus_two')).toBe(1);
  });

  it('answers 401 when there is no customer, without asking the access API', async () => {
    app = await startApp();
    expect((await get(app.url)).status).toBe(401);
    expect(calls.size).toBe(0);
  });

  it('serves the cached answer until `until`, and asks again after it', async () => {
    const until = new Date(Date.now() + 1_200).toISOString();
    answers.set('cus_soon', answer('grace', { until }));
    app = await startApp();
    expect((await get(app.url, { as: 'cus_soon' })).status).toBe(200);
    expect((await get(app.url, { as: 'cus_soon' })).status).toBe(200);
    expect(callsOf('cus_soon')).toBe(1);

    // At `until` the case moved on: the next request must see it.
    answers.set('cus_soon', answer('limited'));
    await new Promise((resolve) => setTimeout(resolve, Date.parse(until) - Date.now() + 50));
    expect((await get(app.url, { as: 'cus_soon' })).body).toMatchObject({ error: 'access', access: 'limited' });
    expect(callsOf('cus_soon')).toBe(2);
  });

  it('keeps a restricted answer at most 10 s, whatever its `until`, so a customer who pays gets back in within seconds', async () => {
    const days = new Date(Date.now() + 3 * 86_400_000).toISOString();
    answers.set('cus_limited', answer('limited', { until: days }));
    answers.set('cus_one_sub', answer('full', { until: days, subscriptions: [{ subscription: 'sub_1', access: 'none', invoice: 'in_1', stage: 'Terminate' }] }));
    app = await startApp();
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    await get(app.url, { as: 'cus_limited' });
    await get(app.url, { as: 'cus_one_sub' });
    vi.advanceTimersByTime(9_000);
    await get(app.url, { as: 'cus_limited' });
    await get(app.url, { as: 'cus_one_sub' });
    expect([callsOf('cus_limited'), callsOf('cus_one_sub')]).toEqual([1, 1]);
    // The customer paid: the next ask, seconds later, sees it.
    answers.set('cus_limited', answer('full'));
    vi.advanceTimersByTime(2_000);
    expect((await get(app.url, { as: 'cus_limited' })).status).toBe(200);
    await get(app.url, { as: 'cus_one_sub' });
    expect([callsOf('cus_limited'), callsOf('cus_one_sub')]).toEqual([2, 2]);
  });

  it('keeps an answer with `until: null` at most 60 s, and one whose `until` has passed not at all', async () => {
    answers.set('cus_null', answer('full'));
    answers.set('cus_past', answer('grace', { until: new Date(Date.now() - 1_000).toISOString() }));
    app = await startApp();
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    await get(app.url, { as: 'cus_null' });
    vi.advanceTimersByTime(59_000);
    await get(app.url, { as: 'cus_null' });
    expect(callsOf('cus_null')).toBe(1);
    vi.advanceTimersByTime(2_000);
    await get(app.url, { as: 'cus_null' });
    expect(callsOf('cus_null')).toBe(2);

    await get(app.url, { as: 'cus_past' });
    await get(app.url, { as: 'cus_past' });
    expect(callsOf('cus_past')).toBe(2);
  });

  it('lets the request through on a 5xx, logs once, and does not cache the failure', async () => {
    const log = vi.fn();
    answers.set('cus_down', { status: 503 });
    app = await startApp({ log });
    const first = await get(app.url, { as: 'cus_down' });
    expect(first).toEqual({ status: 200, body: { ok: true, access: null } });
    expect((await get(app.url, { as: 'cus_down' })).status).toBe(200);
    expect(callsOf('cus_down')).toBe(2);
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0]![0]).toMatch(/503/);

    // Back up: the very next request is gated on the real answer.
    answers.set('cus_down', answer('none'));
    expect((await get(app.url, { as: 'cus_down' })).body).toMatchObject({ error: 'access', access: 'none' });
    expect(callsOf('cus_down')).toBe(3);
  });

  it('lets the request through when the access API cannot be reached at all', async () => {
    const log = vi.fn();
    const nowhere = createServer();
    await new Promise<void>((resolve) => nowhere.listen(0, '127.0.0.1', resolve));
    const port = (nowhere.address() as AddressInfo).port;
    await new Promise<void>((resolve) => nowhere.close(() => resolve()));
    app = await startApp({ baseUrl: `http://127.0.0.1:${port}`, log });
    expect(await get(app.url, { as: 'cus_any' })).toEqual({ status: 200, body: { ok: true, access: null } });
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0]![0]).toMatch(/could not reach the access API/);
  });

  it('answers 503 instead when failOpen is false', async () => {
    answers.set('cus_down', { status: 500 });
    app = await startApp({ failOpen: false });
    const response = await get(app.url, { as: 'cus_down' });
    expect(response.status).toBe(503);
    expect(callsOf('cus_down')).toBe(1);
  });

  it('adds the headers `sign` returns (SigV4 in AWS) to the request it signs', async () => {
    answers.set('cus_signed', answer('full'));
    const sign = vi.fn(async (request: { url: string; headers: Record<string, string> }) => ({
      'x-amz-date': '20260101T000000Z',
      authorization: `AWS4-HMAC-SHA256 for ${new URL(request.url).pathname}`,
    }));
    app = await startApp({ token: undefined, sign });
    expect((await get(app.url, { as: 'cus_signed' })).status).toBe(200);
    expect(sign).toHaveBeenCalledWith({ url: `${apiUrl}/customers/cus_signed/access`, headers: { accept: 'application/json' } });
    expect(calls.get('cus_signed')![0]).toMatchObject({ 'x-amz-date': '20260101T000000Z', authorization: 'AWS4-HMAC-SHA256 for /customers/cus_signed/access' });
  });
});

describe('accessOf, the fetch and cache for apps without Express', () => {
  it('answers from the cache, throws AccessUnavailableError on a 5xx and AccessRequestError on a refusal', async () => {
    answers.set('cus_plain', answer('grace'));
    answers.set('cus_down', { status: 502 });
    expect(await accessOf({ baseUrl: apiUrl, token: TOKEN }, 'cus_plain')).toEqual(answer('grace'));
    expect(await accessOf({ baseUrl: apiUrl, token: TOKEN }, 'cus_plain')).toEqual(answer('grace'));
    expect(callsOf('cus_plain')).toBe(1);
    clearAccessCache('cus_plain');
    await accessOf({ baseUrl: apiUrl, token: TOKEN }, 'cus_plain');
    expect(callsOf('cus_plain')).toBe(2);
    await expect(accessOf({ baseUrl: apiUrl, token: TOKEN }, 'cus_down')).rejects.toBeInstanceOf(AccessUnavailableError);
    await expect(accessOf({ baseUrl: apiUrl, token: 'wrong' }, 'cus_other')).rejects.toBeInstanceOf(AccessRequestError);
  });

  it('shares one request among concurrent callers for the same customer', async () => {
    answers.set('cus_same', answer('full'));
    await Promise.all([accessOf({ baseUrl: apiUrl, token: TOKEN }, 'cus_same'), accessOf({ baseUrl: `${apiUrl}/`, token: TOKEN }, 'cus_same')]);
    expect(callsOf('cus_same')).toBe(1);
  });
});
