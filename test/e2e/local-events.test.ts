// The events the product publishes, as `npm start` shows them: the runtime creates the buses the
// synthesized template creates, and `GET /events` serves what reached them, newest last, by customer
// or detail-type, to requests addressed to the runtime itself.
import { request } from 'node:http';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalConfigSchema } from '#local/config.ts';
import { startRuntime, type Runtime } from '#local/runtime.ts';

let runtime: Runtime;
/** The bus the stack creates for the case events (infra/constructs/event-publisher.ts). */
let BUS: string;
beforeAll(async () => {
  const config = LocalConfigSchema.parse({ port: 0, dynamoDbPort: 0, sesPort: 0, stripePort: 0, dayMs: 60_000, demo: false, stripeDelivery: 'ordered' });
  runtime = await startRuntime(config);
  BUS = runtime.deployment.eventBuses[0]!.name;
});
afterAll(async () => {
  await runtime?.close();
});

function get(path: string, host?: string): Promise<{ status: number; body: unknown }> {
  const url = new URL(path, runtime.urls.app);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: { host: host ?? url.host } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /events', () => {
  it('serves the events published on the template\'s bus, newest last, by customer and detail-type', async () => {
    expect(runtime.deployment.eventBuses).toEqual([{ logicalId: expect.stringMatching(/^DunningEventsBus/), name: BUS, arn: runtime.eventBridge.busArn(BUS) }]);
    // The operator's own client (AWS_ENDPOINT_URL_EVENTBRIDGE, as the runtime sets it for this process).
    const client = new EventBridgeClient({});
    const detail = (customerId: string, eventId: string) => JSON.stringify({ eventId, customerId, invoiceId: 'in_1' });
    await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'stripe-dunning', DetailType: 'Case Opened', Detail: detail('cus_a', 'e1'), EventBusName: BUS },
          { Source: 'stripe-dunning', DetailType: 'Case Opened', Detail: detail('cus_b', 'e2'), EventBusName: runtime.eventBridge.busArn(BUS) },
        ],
      }),
    );
    await client.send(new PutEventsCommand({ Entries: [{ Source: 'stripe-dunning', DetailType: 'Notice Sent', Detail: detail('cus_a', 'e3'), EventBusName: BUS }] }));
    client.destroy();

    const all = await get('/events');
    const customer = await get('/events?customer=cus_a');
    const both = await get('/events?customer=cus_a&detailType=Notice%20Sent');

    expect(all.status).toBe(200);
    expect((all.body as Array<{ detail: { eventId: string } }>).map((e) => e.detail.eventId)).toEqual(['e1', 'e2', 'e3']);
    expect(Object.keys((all.body as object[])[0]!).sort()).toEqual(['detail', 'detailType', 'source', 'time']);
    expect((customer.body as Array<{ detailType: string }>).map((e) => e.detailType)).toEqual(['Case Opened', 'Notice Sent']);
    expect(both.body).toEqual([expect.objectContaining({ detailType: 'Notice Sent', detail: expect.objectContaining({ eventId: 'e3' }) })]);
  });

  it('answers only requests addressed to the runtime itself', async () => {
    const foreign = await get('/events', `attacker.example:${new URL(runtime.urls.app).port}`);

    expect(foreign.status).toBe(403);
  });
});
