// Stage function that ends a case: recovered after a paid retry, terminated after the last one,
// or flagged needs_attention when a stage failed for good.
import { flagCase, recoverCase, terminateCase } from '#shared/dunning/close.ts';
import type { DunningDeps } from '#shared/dunning/deps.ts';
import { stageDeps } from '#shared/runtime/stage-deps.ts';
import { instrument, logger } from '#shared/runtime/powertools.ts';
import { describeCaughtError, parseTaskInput } from '#shared/workflow/task-input.ts';

export function createHandler(deps: () => Promise<DunningDeps>) {
  return async (event: unknown): Promise<{ status: string }> => {
    const input = parseTaskInput(event, 'recover', 'terminate', 'flag');
    logger.appendKeys({ invoiceId: input.invoiceId, executionName: input.invoiceId, action: input.action });
    const d = await deps();
    switch (input.action) {
      case 'recover':
        return { status: (await recoverCase(d, input.invoiceId, 'workflow_retry')).status };
      case 'terminate':
        await terminateCase(d, input.invoiceId);
        return { status: 'terminated' };
      case 'flag':
        await flagCase(d, input.invoiceId, describeCaughtError(input.error));
        return { status: 'needs_attention' };
    }
  };
}

export const handler = instrument('close-case', createHandler(stageDeps));
