// The events publisher's dependencies (publish-events): the table's outbox and the cases, and the
// event bus. No Stripe, no SES, no policy.
import { createEventBridgeClient } from '#shared/adapters/aws-clients.ts';
import { EventBridgeBus } from '#shared/adapters/eventbridge-bus.ts';
import { PublisherConfigSchema, readConfig } from '#shared/config.ts';
import { systemClock } from '#shared/domain/ports.ts';
import type { PublishDeps } from '#shared/dunning/publish-events.ts';
import type { Uses } from '#shared/dunning/deps.ts';
import { once } from './lambda-deps.ts';
import { logger, powertoolsMetrics } from './powertools.ts';
import { tracer } from './tracer.ts';
import { tableStore } from './table-deps.ts';

export type PublisherDeps = PublishDeps & Uses<'clock'>;

export const publisherDeps = once(async (): Promise<PublisherDeps> => {
  const { eventBusName } = readConfig(PublisherConfigSchema);
  const client = createEventBridgeClient({});
  tracer.captureAWSv3Client(client);
  return { store: await tableStore(), bus: new EventBridgeBus(client, eventBusName), clock: systemClock, log: logger, metrics: powertoolsMetrics };
});
