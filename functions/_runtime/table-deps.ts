// The functions that only read or write the table: the banner API (get-notice) and the SES event
// recorder (record-email-event). No Stripe, no SES, no policy.
import { DynamoCaseStore } from '#shared/adapters/dynamodb/case-store.ts';
import { readConfig, TableConfigSchema } from '#shared/config.ts';
import { systemClock } from '#shared/domain/ports.ts';
import type { BannerReader } from '#shared/dunning/current-banner.ts';
import type { EmailEventDeps } from '#shared/dunning/email-events.ts';
import { once, tracedDocumentClient } from './lambda-deps.ts';
import { logger, powertoolsMetrics } from './powertools.ts';

/** The table, every port of it; each function's deps narrow it to the ports its use case names. */
export const tableStore = once(async () => new DynamoCaseStore(tracedDocumentClient(), readConfig(TableConfigSchema).tableName));

/** The banner API only reads the banner, and the case it belongs to. */
export const bannerReader = once(async (): Promise<BannerReader> => tableStore());

/** The SES event recorder reads and writes the table. */
export const emailEventDeps = once(async (): Promise<EmailEventDeps> => ({
  store: await tableStore(),
  clock: systemClock,
  log: logger,
  metrics: powertoolsMetrics,
}));
