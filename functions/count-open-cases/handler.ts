// Scheduled (every 5 minutes by the OpenCasesGauge construct): counts the open cases at each stage
// and emits the `OpenCases` gauge the dashboard graphs. The schedule's payload is ignored.
import { measureOpenCases, type OpenCasesCount, type OpenCasesGaugeDeps } from '#shared/dunning/open-cases.ts';
import { openCasesGaugeDeps } from '#functions/_runtime/open-cases-deps.ts';
import { instrument, logger } from '#functions/_runtime/powertools.ts';

export function createHandler(deps: () => Promise<OpenCasesGaugeDeps>) {
  return async (): Promise<OpenCasesCount> => {
    const count = await measureOpenCases(await deps());
    logger.info('open cases counted', { total: count.total, paused: count.paused });
    return count;
  };
}

export const handler = instrument('count-open-cases', createHandler(openCasesGaugeDeps));
