// Step Functions' "Execution Status Change" (FAILED or TIMED_OUT) for the dunning state machine:
// flags the execution's case needs_attention, so a person fixes the cause and redrives it.
import { flagFailedExecution, type FailedExecutionDeps, type FailedExecutionResult } from '#shared/dunning/failed-execution.ts';
import { flagCaseDeps } from '#functions/_runtime/flag-case-deps.ts';
import { instrument, logger } from '#functions/_runtime/powertools.ts';

export function createHandler(deps: () => Promise<FailedExecutionDeps>) {
  return async (event: unknown): Promise<FailedExecutionResult> => {
    const name = (event as { detail?: { name?: unknown } } | undefined)?.detail?.name;
    if (typeof name === 'string') logger.appendKeys({ executionName: name });
    // A store or Step Functions failure throws: Lambda retries the async invocation, then the DLQ.
    return flagFailedExecution(await deps(), event);
  };
}

export const handler = instrument('flag-case', createHandler(flagCaseDeps));
