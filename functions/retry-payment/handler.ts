// Stage function: retries the invoice's payment off-session; the state machine branches on the outcome.
import type { DunningDeps } from '#shared/dunning/deps.ts';
import { runRetryStage } from '#shared/dunning/stages.ts';
import { stageDeps } from '#functions/_runtime/stage-deps.ts';
import { instrument, logger } from '#functions/_runtime/powertools.ts';
import type { RetryTaskOutput } from '#shared/workflow/definition.ts';
import { standDownAs } from '#shared/workflow/stand-down.ts';
import { parseTaskInput } from '#shared/workflow/task-input.ts';

export function createHandler(deps: () => Promise<DunningDeps>) {
  return async (event: unknown): Promise<RetryTaskOutput> => {
    const input = parseTaskInput(event, 'retry');
    logger.appendKeys({ invoiceId: input.invoiceId, executionName: input.invoiceId, stage: input.stage, policy: input.policy });
    const d = await deps();
    return standDownAs(input.standDown, d.log, () => runRetryStage(d, input.invoiceId, input.stage, input.policy, { standDown: input.standDown }));
  };
}

export const handler = instrument('retry-payment', createHandler(stageDeps));
