// The open-cases gauge's dependencies (count-open-cases): the table's open-cases index and the
// policies, whose stages it counts. No Stripe, no SES.
import { systemClock } from '#shared/domain/ports.ts';
import type { OpenCasesGaugeDeps } from '#shared/dunning/open-cases.ts';
import { once } from './lambda-deps.ts';
import { policiesFromEnvironment } from './policy-env.ts';
import { powertoolsMetrics } from './powertools.ts';
import { tableStore } from './table-deps.ts';

/** The open-cases gauge reads the open-cases index and emits one metric per stage. */
export const openCasesGaugeDeps = once(async (): Promise<OpenCasesGaugeDeps> => ({
  store: await tableStore(),
  policies: policiesFromEnvironment(),
  clock: systemClock,
  metrics: powertoolsMetrics,
}));
