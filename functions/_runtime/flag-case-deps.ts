// The flagger of failed executions (flag-case): the table, and Step Functions to read the execution
// back (describe, history). No Stripe, no SES, no policy.
import { createSfnClient } from '#shared/adapters/aws-clients.ts';
import { StepFunctionsWorkflow } from '#shared/adapters/sfn-workflow.ts';
import { FlagCaseConfigSchema, readConfig } from '#shared/config.ts';
import { systemClock } from '#shared/domain/ports.ts';
import type { FailedExecutionDeps } from '#shared/dunning/failed-execution.ts';
import { once } from './lambda-deps.ts';
import { logger, powertoolsMetrics } from './powertools.ts';
import { tracer } from './tracer.ts';
import { tableStore } from './table-deps.ts';

export const flagCaseDeps = once(async (): Promise<FailedExecutionDeps> => {
  const config = readConfig(FlagCaseConfigSchema);
  const sfn = createSfnClient();
  tracer.captureAWSv3Client(sfn);
  return {
    store: await tableStore(),
    workflow: new StepFunctionsWorkflow(sfn, config.stateMachineArn),
    clock: systemClock,
    log: logger,
    metrics: powertoolsMetrics,
  };
});
