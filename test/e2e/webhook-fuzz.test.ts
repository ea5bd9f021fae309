// 10,000 random mutations of a valid signed delivery, through the webhook function as deployed (its
// own worker and environment): nothing is accepted without a valid signature, nothing answers 5xx,
// and nothing changes state.
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '#shared/adapters/aws-clients.ts';
import { startTestRuntime, type TestRuntime } from '../fixtures/scenario.ts';
import { stripeFixture } from '../fixtures/stripe.ts';

const MUTATIONS = 10_000;

let t: TestRuntime;
beforeAll(async () => {
  // Thousands of bad signatures on purpose: exactly what WebhookSignatureRejections pages about.
  t = await startTestRuntime({ dayMs: 60_000, expectAlarms: ['WebhookSignatureRejections'] });
});
afterAll(async () => {
  await t?.close();
});

/** A deterministic generator, so a failure can be replayed from its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]! };
}

type Rng = ReturnType<typeof random>;

function mutateBody(body: string, rng: Rng): string {
  const at = rng.int(body.length);
  switch (rng.int(6)) {
    case 0: // flip one character
      return body.slice(0, at) + String.fromCharCode((body.charCodeAt(at) + 1 + rng.int(90)) % 128) + body.slice(at + 1);
    case 1: // drop a slice
      return body.slice(0, at) + body.slice(at + 1 + rng.int(40));
    case 2: // insert noise
      return body.slice(0, at) + randomBytes(1 + rng.int(8)).toString('latin1') + body.slice(at);
    case 3: // truncate
      return body.slice(0, at);
    case 4: // change a value that matters
      return body.replace(/"amount_due": \d+/, `"amount_due": ${rng.int(100000)}`).replace('"livemode": false', '"livemode": true');
    default: // re-serialize: same JSON, different bytes
      return JSON.stringify(JSON.parse(body));
  }
}

function mutateHeader(header: string, payload: string, secret: string, rng: Rng): string {
  const [tPart = '', v1Part = ''] = header.split(',');
  const timestamp = Number(tPart.slice(2));
  switch (rng.int(9)) {
    case 0: { // one hex digit of the signature changed
      const hex = v1Part.slice(3);
      const at = rng.int(hex.length);
      const digit = ((parseInt(hex[at] ?? '0', 16) + 1 + rng.int(14)) % 16).toString(16);
      return `${tPart},v1=${hex.slice(0, at)}${digit}${hex.slice(at + 1)}`;
    }
    case 1:
      return tPart; // no v1 at all
    case 2:
      return `t=${timestamp + 1 + rng.int(1000)},${v1Part}`; // timestamp moved
    case 3:
      return `t=${Math.floor(Date.now() / 1000) - 301 - rng.int(100000)},${signatureFor(payload, secret, timestamp - 301)}`; // too old
    case 4:
      return randomBytes(rng.int(64)).toString('base64'); // garbage
    case 5:
      return `${tPart},v0=${v1Part.slice(3)}`; // wrong scheme
    case 6:
      return Stripe.webhooks.generateTestHeaderString({ payload, secret: `whsec_${randomBytes(8).toString('hex')}` }); // other secret
    case 7:
      return `t=abc,${v1Part}`;
    default:
      return '';
  }
}

function signatureFor(payload: string, secret: string, timestamp: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }).split(',')[1] ?? '';
}

function urlEvent(body: string, headers: Record<string, string>): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/webhook',
    rawQueryString: '',
    headers,
    requestContext: { http: { method: 'POST', path: '/webhook', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'fuzz' } },
    body: Buffer.from(body, 'utf8').toString('base64'),
    isBase64Encoded: true,
  } as unknown as LambdaFunctionURLEvent;
}

async function itemCount(): Promise<number> {
  const out = await createDynamoDocumentClient({}).send(new ScanCommand({ TableName: t.runtime.config.tableName, Select: 'COUNT' }));
  return out.Count ?? 0;
}

describe('the webhook under fuzzing', () => {
  it(`accepts none of ${MUTATIONS} mutated deliveries, answers none with 5xx, and changes no state`, async () => {
    const secret = t.runtime.config.webhookSecret;
    const event = stripeFixture('event');
    const invoice = stripeFixture('invoice');
    Object.assign(invoice, { id: 'in_fuzzTarget', status: 'open', collection_method: 'charge_automatically', amount_due: 1500, customer: 'cus_fuzz', livemode: false });
    invoice.parent = { type: 'subscription_details', quote_details: null, subscription_details: { metadata: {}, subscription: 'sub_fuzz' } };
    Object.assign(event, { id: 'evt_fuzzTarget', type: 'invoice.payment_failed', livemode: false, created: Math.floor(Date.now() / 1000), data: { object: invoice } });
    const payload = JSON.stringify(event, null, 2);
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret });
    const before = { items: await itemCount(), executions: t.runtime.stepFunctions.executions.size };

    const rng = random(20261123);
    const statuses = new Map<number, number>();
    const accepted: string[] = [];
    for (let i = 0; i < MUTATIONS; i++) {
      const kind = rng.int(3);
      const body = kind === 1 ? payload : mutateBody(payload, rng);
      const signature = kind === 0 ? header : mutateHeader(header, body, secret, rng);
      if (body === payload && signature === header) continue;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (signature || rng.int(2)) headers['stripe-signature'] = signature;
      const response = await t.runtime.lambda.invoke<{ statusCode: number }>('handle-webhook', urlEvent(body, headers));
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      if (response.statusCode < 300 || response.statusCode >= 500) accepted.push(`#${i} ${response.statusCode}: ${signature.slice(0, 40)}`);
    }

    const tried = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(tried).toBeGreaterThan(MUTATIONS * 0.95);
    expect(accepted).toEqual([]);
    expect([...statuses.keys()].every((status) => status === 400 || status === 413)).toBe(true);
    expect({ items: await itemCount(), executions: t.runtime.stepFunctions.executions.size }).toEqual(before);
  });
});
