// A stage that must not act stands down: the case is paused by an operator, or it closed (paid,
// terminated, closed elsewhere) while the stage ran. Neither is a failure, so under a definition that
// branches on the stage's result it is that result, never a Lambda error that every alarm counts.
import { CaseClosedError, CasePausedError } from '../domain/errors.ts';

/**
 * The Task input of a definition that branches on results (`standDown: "return"`). An execution
 * started under an earlier definition has Tasks without it: they retry CasePausedError and catch
 * CaseClosedError, so its stages keep throwing them (a result would make it skip a notice or move on).
 */
export const STAND_DOWN_RETURN = 'return';
export type StandDownContract = typeof STAND_DOWN_RETURN;

/** What a stage that stood down returns. The state machine reads `outcome`; the rest is for people. */
export type StandDown = { outcome: 'paused'; pausedUntil: string } | { outcome: 'closed'; status: string };

/** All a stand-down asks of the logger, so this contract needs nothing from the use cases (their Log fits). */
interface InfoLog {
  info(message: string, fields: Record<string, string>): void;
}

/**
 * Runs a stage. When its Task passed `standDown: "return"`, a pause or a closed case comes back as a
 * StandDown result, logged at INFO; otherwise the error is thrown as before.
 */
export async function standDownAs<R>(contract: StandDownContract | undefined, log: InfoLog, run: () => Promise<R>): Promise<R | StandDown> {
  try {
    return await run();
  } catch (error) {
    if (contract !== STAND_DOWN_RETURN) throw error;
    if (error instanceof CasePausedError) {
      log.info('stage stood down: the case is paused', { pausedUntil: error.pausedUntil });
      return { outcome: 'paused', pausedUntil: error.pausedUntil };
    }
    if (error instanceof CaseClosedError) {
      log.info('stage stood down: the case is closed', { status: error.status });
      return { outcome: 'closed', status: error.status };
    }
    throw error;
  }
}
