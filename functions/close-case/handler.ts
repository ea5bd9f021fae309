// Stage function that ends a case: recovered after a paid retry, terminated after the last one.
// (`flag` serves only executions started under a definition older than redrive, which still end
// in FlagCase; a failed execution is now flagged by flag-case.)
import { flagCase, recoverCase, terminateCase } from '#shared/dunning/close.ts';
import type { DunningDeps } from '#shared/dunning/deps.ts';
import { stageDeps } from '#functions/_runtime/stage-deps.ts';
import { instrument, logger } from '#functions/_runtime/powertools.ts';
import { standDownAs, type StandDown } from '#shared/workflow/stand-down.ts';
import { describeCaughtError, parseTaskInput } from '#shared/workflow/task-input.ts';

export function createHandler(deps: () => Promise<DunningDeps>) {
  return async (event: unknown): Promise<{ status: string } | { outcome: 'terminated' } | StandDown> => {
    const input = parseTaskInput(event, 'recover', 'terminate', 'flag');
    logger.appendKeys({ invoiceId: input.invoiceId, executionName: input.invoiceId, action: input.action });
    const d = await deps();
    switch (input.action) {
      case 'recover':
        // How the retry found it paid; an earlier definition passes nothing, after our own charge.
        return { status: (await recoverCase(d, input.invoiceId, input.retry?.recoveredBy ?? 'workflow_retry')).status };
      case 'terminate':
        return standDownAs(input.standDown, d.log, async () => {
          await terminateCase(d, input.invoiceId);
          return { outcome: 'terminated' as const };
        });
      case 'flag':
        await flagCase(d, input.invoiceId, describeCaughtError(input.error));
        return { status: 'needs_attention' };
    }
  };
}

export const handler = instrument('close-case', createHandler(stageDeps));
