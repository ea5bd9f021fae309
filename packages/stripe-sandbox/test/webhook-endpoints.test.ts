// /v1/webhook_endpoints as Stripe serves it (https://docs.stripe.com/api/webhook_endpoints): the
// object's shape (Stripe's fixture), `secret` only at creation, and Stripe's validation errors.
// Delivery to these endpoints: webhook-endpoints-delivery.test.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { readStripeFixtures } from '../src/index.ts';
import { catchError, startHarness, type Harness } from './helpers.ts';

type EnabledEvent = Stripe.WebhookEndpointCreateParams.EnabledEvent;

const FIXTURE_KEYS = Object.keys(readStripeFixtures().resources.webhook_endpoint as object).sort();

/** The keys of an SDK object as the API sent them (the SDK adds `lastResponse`). */
function keysOf(o: object): string[] {
  return Object.keys(o)
    .filter((k) => k !== 'lastResponse')
    .sort();
}

/** Every event type the sandbox's source passes to `core.emit` (directly or through `change`). */
function emittedTypes(): string[] {
  const src = fileURLToPath(new URL('../src/', import.meta.url));
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) files.push(path);
    }
  };
  walk(src);
  const types = new Set<string>();
  for (const file of files) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\b(?:emit|change)\(\s*(?:core,\s*)?'([a-z_.]+)'/g)) types.add(m[1]!);
  }
  return [...types].sort();
}

describe('stripe sandbox webhook endpoints API', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('creates an endpoint with its secret, then retrieves, updates and lists it without the secret', async () => {
    h = await startHarness();
    const before = Math.floor(Date.now() / 1000);
    const created = await h.stripe.webhookEndpoints.create({
      url: 'https://example.com/stripe/webhook',
      enabled_events: ['invoice.payment_failed', 'customer.updated'],
      description: 'dunning',
      metadata: { product: 'dunning', keep: 'yes' },
    });
    expect(keysOf(created)).toEqual([...FIXTURE_KEYS, 'secret'].sort());
    expect(created.id).toMatch(/^we_1[A-Za-z0-9]{23}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9]{32}$/);
    expect(created).toMatchObject({
      object: 'webhook_endpoint',
      api_version: null,
      application: null,
      description: 'dunning',
      enabled_events: ['invoice.payment_failed', 'customer.updated'],
      livemode: false,
      metadata: { product: 'dunning', keep: 'yes' },
      status: 'enabled',
      url: 'https://example.com/stripe/webhook',
    });
    expect(created.created).toBeGreaterThanOrEqual(before);

    const retrieved = await h.stripe.webhookEndpoints.retrieve(created.id);
    expect(keysOf(retrieved)).toEqual(FIXTURE_KEYS);
    const { secret: _secret, lastResponse: _r1, ...rest } = created;
    const { lastResponse: _r2, ...plain } = retrieved;
    expect(plain).toEqual(rest);

    const updated = await h.stripe.webhookEndpoints.update(created.id, {
      url: 'http://127.0.0.1:9/other',
      enabled_events: ['*'],
      description: '',
      metadata: { keep: '', added: 'now' },
      disabled: true,
    });
    expect(keysOf(updated)).toEqual(FIXTURE_KEYS);
    expect(updated).toMatchObject({
      id: created.id,
      url: 'http://127.0.0.1:9/other',
      enabled_events: ['*'],
      description: null,
      metadata: { product: 'dunning', added: 'now' },
      status: 'disabled',
      created: created.created,
    });
    expect((await h.stripe.webhookEndpoints.update(created.id, { disabled: false })).status).toBe('enabled');
    expect((await h.stripe.webhookEndpoints.retrieve(created.id)).status).toBe('enabled');

    const list = await h.stripe.webhookEndpoints.list();
    expect(list.object).toBe('list');
    expect(list.url).toBe('/v1/webhook_endpoints');
    expect(list.data.map((e) => e.id)).toEqual([created.id]);
    expect(keysOf(list.data[0]!)).toEqual(FIXTURE_KEYS);
  });

  it('pages the list newest first with limit, starting_after and ending_before', async () => {
    h = await startHarness();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await h.stripe.webhookEndpoints.create({ url: `https://example.com/${i}`, enabled_events: ['*'] })).id);
    }
    const newestFirst = [...ids].reverse();
    const first = await h.stripe.webhookEndpoints.list({ limit: 2 });
    expect(first.data.map((e) => e.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.has_more).toBe(true);
    const second = await h.stripe.webhookEndpoints.list({ limit: 2, starting_after: first.data[1]!.id });
    expect(second.data.map((e) => e.id)).toEqual(newestFirst.slice(2));
    expect(second.has_more).toBe(false);
    const back = await h.stripe.webhookEndpoints.list({ limit: 2, ending_before: newestFirst[2] });
    expect(back.data.map((e) => e.id)).toEqual(newestFirst.slice(0, 2));
    const all: string[] = [];
    for await (const e of h.stripe.webhookEndpoints.list({ limit: 1 })) all.push(e.id);
    expect(all).toEqual(newestFirst);
  });

  it('deletes an endpoint: answers the deleted object, and it is gone', async () => {
    h = await startHarness();
    const we = await h.stripe.webhookEndpoints.create({ url: 'https://example.com/gone', enabled_events: ['*'] });
    const deleted = await h.stripe.webhookEndpoints.del(we.id);
    const { lastResponse: _r, ...body } = deleted;
    expect(body).toEqual({ id: we.id, object: 'webhook_endpoint', deleted: true });
    for (const call of [h.stripe.webhookEndpoints.retrieve(we.id), h.stripe.webhookEndpoints.update(we.id, { disabled: true }), h.stripe.webhookEndpoints.del(we.id)]) {
      const err = await catchError(call);
      expect(err.statusCode).toBe(404);
      expect(err.type).toBe('StripeInvalidRequestError');
      expect(err.code).toBe('resource_missing');
      expect(err.param).toBe('id');
      expect(err.message).toBe(`No such webhook endpoint: '${we.id}'`);
    }
    expect((await h.stripe.webhookEndpoints.list()).data).toHaveLength(0);
  });

  it("keeps the endpoint's api_version, refuses an unknown one, and refuses changing it", async () => {
    h = await startHarness();
    const we = await h.stripe.webhookEndpoints.create({ url: 'https://example.com/v', enabled_events: ['*'], api_version: '2024-06-20' });
    expect(we.api_version).toBe('2024-06-20');
    expect((await h.stripe.webhookEndpoints.retrieve(we.id)).api_version).toBe('2024-06-20');
    const unknown = await catchError(
      h.stripe.webhookEndpoints.create({ url: 'https://example.com/v', enabled_events: ['*'], api_version: '2011-01-01' }),
    );
    expect([unknown.statusCode, unknown.param]).toEqual([400, 'api_version']);
    expect(unknown.message).toMatch(/^Invalid api_version: must be one of .*2024-06-20/);
    const change = await catchError(
      h.stripe.webhookEndpoints.update(we.id, { api_version: '2024-09-30.acacia' } as Stripe.WebhookEndpointUpdateParams),
    );
    expect([change.statusCode, change.code, change.param, change.message]).toEqual([
      400,
      'parameter_unknown',
      'api_version',
      'Received unknown parameter: api_version',
    ]);
  });

  it("refuses a missing url or enabled_events, an unknown event type and a url that is not http(s), as Stripe does", async () => {
    h = await startHarness();
    const create = (params: Record<string, unknown>) => catchError(h.stripe.webhookEndpoints.create(params as unknown as Stripe.WebhookEndpointCreateParams));
    const summary = (e: Stripe.errors.StripeError) => ({ status: e.statusCode, type: e.type, rawType: e.raw && (e.raw as { type?: string }).type, code: e.code, param: e.param, message: e.message });

    expect(summary(await create({ enabled_events: ['*'] }))).toEqual({
      status: 400,
      type: 'StripeInvalidRequestError',
      rawType: 'invalid_request_error',
      code: 'parameter_missing',
      param: 'url',
      message: 'Missing required param: url.',
    });
    expect(summary(await create({ url: 'https://example.com/x' }))).toEqual({
      status: 400,
      type: 'StripeInvalidRequestError',
      rawType: 'invalid_request_error',
      code: 'parameter_missing',
      param: 'enabled_events',
      message: 'Missing required param: enabled_events.',
    });

    const unknownType = await create({ url: 'https://example.com/x', enabled_events: ['invoice.paid', 'invoice.nonesuch'] });
    expect(summary(unknownType)).toMatchObject({ status: 400, rawType: 'invalid_request_error', code: 'parameter_invalid', param: 'enabled_events[1]' });
    // Stripe's enum error: the parameter, then every type it takes.
    expect(unknownType.message).toMatch(/^Invalid enabled_events\[1\]: must be one of account\.application\.authorized, /);
    expect(unknownType.message).toContain(', invoice.paid, ');
    expect(unknownType.message).not.toContain('nonesuch');
    // A wildcard of Stripe's events list filter is not an endpoint's.
    expect((await create({ url: 'https://example.com/x', enabled_events: ['invoice.*'] })).param).toBe('enabled_events[0]');

    for (const url of ['ftp://example.com/hook', 'example.com/hook', 'not a url', 'javascript:alert(1)']) {
      expect(summary(await create({ url, enabled_events: ['*'] }))).toEqual({
        status: 400,
        type: 'StripeInvalidRequestError',
        rawType: 'invalid_request_error',
        code: 'url_invalid',
        param: 'url',
        message: `Invalid URL: ${url}. URLs must begin with http:// or https://.`,
      });
    }
    // Nothing refused was made.
    expect((await h.stripe.webhookEndpoints.list()).data).toHaveLength(0);

    // The same rules on update, and a refused update changes nothing.
    const we = await h.stripe.webhookEndpoints.create({ url: 'https://example.com/ok', enabled_events: ['invoice.paid'] });
    const badType = await catchError(h.stripe.webhookEndpoints.update(we.id, { url: 'https://example.com/new', enabled_events: ['nope' as EnabledEvent] }));
    expect([badType.statusCode, badType.param]).toEqual([400, 'enabled_events[0]']);
    const badUrl = await catchError(h.stripe.webhookEndpoints.update(we.id, { url: 'ftp://example.com/x' }));
    expect([badUrl.statusCode, badUrl.code, badUrl.param]).toEqual([400, 'url_invalid', 'url']);
    const kept = await h.stripe.webhookEndpoints.retrieve(we.id);
    expect([kept.url, kept.enabled_events]).toEqual(['https://example.com/ok', ['invoice.paid']]);
  });

  it('accepts every event type the sandbox emits, and Stripe types it does not', async () => {
    h = await startHarness();
    const emitted = emittedTypes();
    // The scan found the sandbox's events, including those recorded through `change`.
    expect(emitted.length).toBeGreaterThanOrEqual(35);
    expect(emitted).toEqual(expect.arrayContaining(['invoice.payment_failed', 'customer.updated', 'invoice_payment.paid', 'test_helpers.test_clock.ready']));
    const we = await h.stripe.webhookEndpoints.create({ url: 'https://example.com/all', enabled_events: emitted as EnabledEvent[] });
    expect(we.enabled_events).toEqual(emitted);
    // Types the product subscribes to that the sandbox never sends are still Stripe's.
    const more = await h.stripe.webhookEndpoints.create({
      url: 'https://example.com/more',
      enabled_events: ['setup_intent.succeeded', 'customer.source.expiring', 'checkout.session.completed'],
    });
    expect(more.status).toBe('enabled');
  });
});
