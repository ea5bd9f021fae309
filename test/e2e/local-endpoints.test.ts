// The local runtime's own endpoints cannot be reached from a web page: what reveals or changes
// state answers only requests addressed to the runtime itself (a page that rebinds its DNS name to
// 127.0.0.1 still sends its own name as Host), what changes state also wants the local token, and
// no secret is ever served.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ dayMs: 60_000 });
});
afterAll(async () => {
  await t?.close();
});

/** A request with the Host header a browser would send for `host`, to the runtime's own socket. */
function call(base: string, path: string, options: { host?: string; method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const url = new URL(path, base);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: options.method ?? 'GET', headers: { host: options.host ?? url.host, ...options.headers } },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const port = () => new URL(t.runtime.urls.app).port;
const rebound = () => `attacker.example:${port()}`;
const token = () => ({ authorization: `Bearer ${t.runtime.config.bannerToken}` });

describe('the endpoints that reveal local state', () => {
  it.each(['/cases', '/cases/in_0000000000', '/console', '/console/data', '/console/emails/ses-0', '/.well-known/dunning', '/account', '/account/notice'])('answer %s to the runtime itself, and 403 to a rebound name', async (path) => {
    const own = await call(t.runtime.urls.app, path);
    const byName = await call(t.runtime.urls.app, path, { host: `localhost:${port()}` });
    const foreign = await call(t.runtime.urls.app, path, { host: rebound() });

    expect([200, 204, 404]).toContain(own.status);
    expect([200, 204, 404]).toContain(byName.status);
    expect(foreign.status).toBe(403);
    expect(foreign.body).not.toContain('dunning-local');
  });
});

describe('POST /ses/events, which changes state', () => {
  const notification = JSON.stringify({ Type: 'Notification', Message: '{}' });

  it('wants the local token', async () => {
    const anonymous = await call(t.runtime.urls.app, '/ses/events', { method: 'POST', body: notification });
    const wrong = await call(t.runtime.urls.app, '/ses/events', { method: 'POST', body: notification, headers: { authorization: 'Bearer not-the-token' } });
    const allowed = await call(t.runtime.urls.app, '/ses/events', { method: 'POST', body: notification, headers: token() });

    expect(anonymous.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(allowed.status).toBe(200);
  });

  it('refuses a rebound name even with the token', async () => {
    const foreign = await call(t.runtime.urls.app, '/ses/events', { method: 'POST', body: notification, headers: token(), host: rebound() });
    expect(foreign.status).toBe(403);
  });
});

describe('the secrets', () => {
  it('are never served by the discovery document, which names the link signing key by its ARN only', async () => {
    const discovery = await call(t.runtime.urls.app, '/.well-known/dunning');

    expect(discovery.status).toBe(200);
    expect(discovery.body).not.toContain(t.runtime.config.linkSigningKey);
    expect(discovery.body).not.toContain(t.runtime.config.webhookSecret);
    expect(JSON.parse(discovery.body)).toMatchObject({ linkSigningKeySecretArn: t.runtime.deployment.secrets.linkSigningKey });
  });

  it('are kept from a rebound name by the local Secrets Manager too', async () => {
    const body = JSON.stringify({ SecretId: t.runtime.deployment.secrets.linkSigningKey });
    const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' };
    const secretsPort = new URL(t.runtime.urls.secretsManager).port;

    const foreign = await call(t.runtime.urls.secretsManager, '/', { method: 'POST', headers, body, host: `attacker.example:${secretsPort}` });

    expect(foreign.status).toBe(403);
    expect(foreign.body).not.toContain(t.runtime.config.linkSigningKey);
  });
});
