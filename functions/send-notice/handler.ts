// Stage function: sends a policy notice (email + My Account banner) for one case.
import type { DunningDeps } from '#shared/dunning/deps.ts';
import { runNoticeStage, type NoticeStageResult } from '#shared/dunning/stages.ts';
import { stageDeps } from '#functions/_runtime/stage-deps.ts';
import { instrument, logger } from '#functions/_runtime/powertools.ts';
import { standDownAs, type StandDown } from '#shared/workflow/stand-down.ts';
import { parseTaskInput } from '#shared/workflow/task-input.ts';

export function createHandler(deps: () => Promise<DunningDeps>) {
  return async (event: unknown): Promise<NoticeStageResult | StandDown> => {
    const input = parseTaskInput(event, 'notice');
    logger.appendKeys({ invoiceId: input.invoiceId, executionName: input.invoiceId, stage: input.stage, policy: input.policy });
    const d = await deps();
    return standDownAs(input.standDown, d.log, () => runNoticeStage(d, input.invoiceId, input.stage, input.policy));
  };
}

export const handler = instrument('send-notice', createHandler(stageDeps));
