import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { startStripeSandbox, type StripeSandbox } from '../src/index.ts';
import { catchError, stripeFor } from './helpers.ts';

describe('stripe sandbox events API', () => {
  let sandbox: StripeSandbox;
  let stripe: Stripe;
  let customers: Stripe.Customer[];

  beforeAll(async () => {
    sandbox = await startStripeSandbox();
    stripe = stripeFor(sandbox);
    customers = [];
    for (let i = 0; i < 3; i++) customers.push(await stripe.customers.create({ email: `e${i}@example.com` }));
    await stripe.customers.update(customers[0]!.id, { name: 'Renamed' });
  });
  afterAll(() => sandbox.close());

  it('lists events newest first in the fixture shape', async () => {
    const list = await stripe.events.list();
    expect(list.object).toBe('list');
    expect(list.url).toBe('/v1/events');
    expect(list.data.map((e) => e.type)).toEqual(['customer.updated', 'customer.created', 'customer.created', 'customer.created']);
    const event = list.data[0]!;
    expect(event).toMatchObject({ object: 'event', livemode: false, api_version: Stripe.API_VERSION, pending_webhooks: 0 });
    expect(event.id).toMatch(/^evt_1[A-Za-z0-9]{23}$/);
    expect(event.request?.id).toMatch(/^req_/);
    expect(event.data.previous_attributes).toEqual({ name: null });
  });

  it('filters by type, types[] and created[gte]', async () => {
    expect((await stripe.events.list({ type: 'customer.created' })).data).toHaveLength(3);
    expect((await stripe.events.list({ type: 'customer.*' })).data).toHaveLength(4);
    expect((await stripe.events.list({ types: ['customer.updated', 'invoice.paid'] })).data).toHaveLength(1);
    const newest = (await stripe.events.list({ limit: 1 })).data[0]!;
    expect((await stripe.events.list({ created: { gte: newest.created + 1 } })).data).toHaveLength(0);
    expect((await stripe.events.list({ created: { gte: newest.created } })).data.length).toBeGreaterThanOrEqual(1);
  });

  it('paginates with limit, has_more and starting_after, and the SDK auto-pagination', async () => {
    const page = await stripe.events.list({ limit: 2 });
    expect(page.has_more).toBe(true);
    const rest = await stripe.events.list({ limit: 2, starting_after: page.data[1]!.id });
    expect(rest.data).toHaveLength(2);
    expect(rest.has_more).toBe(false);
    const all = await stripe.events.list({ limit: 1 }).autoPagingToArray({ limit: 10 });
    expect(all).toHaveLength(4);
    const tooMany = await catchError(stripe.events.list({ limit: 101 }));
    expect(tooMany.param).toBe('limit');
  });

  it('retrieves one event and 404s an unknown id', async () => {
    const [latest] = (await stripe.events.list({ limit: 1 })).data;
    const event = await stripe.events.retrieve(latest!.id);
    expect(event).toEqual(JSON.parse(JSON.stringify(latest)));
    const err = await catchError(stripe.events.retrieve('evt_missing'));
    expect(err).toMatchObject({ statusCode: 404, code: 'resource_missing', message: "No such event: 'evt_missing'" });
  });
});
