// Stage function: sends a policy notice (email + My Account banner) for one case.
import type { DunningDeps } from '#shared/dunning/deps.ts';
import { runNoticeStage, type NoticeStageResult } from '#shared/dunning/stages.ts';
import { stageDeps } from '#shared/runtime/stage-deps.ts';
import { instrument, logger } from '#shared/runtime/powertools.ts';
import { parseTaskInput } from '#shared/workflow/task-input.ts';

export function createHandler(deps: () => Promise<DunningDeps>) {
  return async (event: unknown): Promise<NoticeStageResult> => {
    const input = parseTaskInput(event, 'notice');
    logger.appendKeys({ invoiceId: input.invoiceId, executionName: input.invoiceId, stage: input.stage, policy: input.policy });
    return runNoticeStage(await deps(), input.invoiceId, input.stage, input.policy);
  };
}

export const handler = instrument('send-notice', createHandler(stageDeps));
