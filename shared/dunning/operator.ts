// What an operator does to one case from outside (the `dunning` CLI): charge it now, close it,
// redrive its failed execution. Each
// goes through the same code as the product's own paths: a charge is the card-update charge, a
// close is a close from outside.
import type { DunningCase } from '../domain/case.ts';
import { CaseClosedError, ExecutionNotRedrivableError } from '../domain/errors.ts';
import type { Banners, CardBlocks, RetryLedger, CaseClaims, Cases, Customers, ExecutionStatus, Invoices, Suppressions, Timeline } from '../domain/ports.ts';
import { chargeCase } from './charge.ts';
import { recoverCase } from './close.ts';
import type { Uses } from './deps.ts';
import { closeFromOutside } from './outside.ts';
import { howPaid } from './paid-by.ts';
import { declineFacts, record } from './timeline.ts';

/** The timeline's stage name for what an operator did. */
export const OPERATOR_STAGE = 'Operator';

export type RetryNowResult =
  | { outcome: 'paid'; recovered: boolean }
  | { outcome: 'already_paid'; recovered: boolean }
  | { outcome: 'declined'; code: string; message: string }
  | { outcome: 'skipped'; code: string }
  | { outcome: 'busy' }
  | { outcome: 'not_open'; status: DunningCase['status'] };

/** What retryNow touches. */
export type RetryNowDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'caseClock' | 'log' | 'metrics' | 'workflow', Cases & CardBlocks & RetryLedger & CaseClaims & Banners & Suppressions & Timeline, Invoices & Customers>;

/**
 * Charges the case's open invoices now with the customer's default card, as a card update does, and
 * recovers the case if that pays. A decline changes nothing else: the sequence goes on. An operator
 * may charge a paused or flagged case: it is an explicit act, and a payment is always welcome.
 */
export async function retryNow(deps: RetryNowDeps, dunningCase: DunningCase): Promise<RetryNowResult> {
  if (dunningCase.status !== 'open' && dunningCase.status !== 'needs_attention') return { outcome: 'not_open', status: dunningCase.status };
  const now = deps.clock.now();
  const at = now.toISOString();
  let result: Awaited<ReturnType<typeof chargeCase>>;
  try {
    result = await chargeCase(deps, dunningCase, {
      holder: OPERATOR_STAGE.toLowerCase(),
      // Unique per request: each operator retry is a new attempt, never a replay of an earlier one.
      idempotencyKey: `dunning:${dunningCase.executionName}:operator:${now.getTime()}`,
      by: 'operator',
    });
  } catch (error) {
    // It ended (terminated, paid) between the operator's read and the charge.
    if (error instanceof CaseClosedError) return { outcome: 'not_open', status: error.status as DunningCase['status'] };
    throw error;
  }
  switch (result.outcome) {
    case 'paid':
    case 'already_paid': {
      if (result.outcome === 'paid') await record(deps, dunningCase.invoiceId, 'retry_paid', { at, stage: OPERATOR_STAGE });
      const recovered = await recoverCase(deps, dunningCase.invoiceId, result.outcome === 'paid' ? 'workflow_retry' : howPaid(result.invoice));
      if (recovered.closedNow && dunningCase.executionArn) await deps.workflow.stop(dunningCase.executionArn, 'paid by an operator retry');
      return { outcome: result.outcome, recovered: recovered.recovered };
    }
    case 'declined': {
      const code = result.declineCode ?? result.code;
      await record(deps, dunningCase.invoiceId, 'retry_declined', { at, stage: OPERATOR_STAGE, detail: code, facts: declineFacts(result) });
      return { outcome: 'declined', code, message: result.message };
    }
    case 'skipped':
      await record(deps, dunningCase.invoiceId, 'retry_skipped', { at, stage: OPERATOR_STAGE, detail: `same card, ${result.code}` });
      return { outcome: 'skipped', code: result.code };
    case 'busy':
      return { outcome: 'busy' };
    case 'left_to_stripe':
    case 'held':
      // Only scheduled retries defer to Stripe or to the retry rules; an operator's never does.
      throw new Error(`unexpected charge outcome ${result.outcome}`);
  }
}

/** Closes the case from outside with the operator's reason; its execution is stopped. */
export async function closeByOperator(deps: Uses<'clock' | 'log' | 'metrics', Cases & Banners & Timeline>, dunningCase: DunningCase, reason: string): Promise<boolean> {
  return closeFromOutside(deps, dunningCase, `closed by operator: ${reason}`);
}

export type RedriveResult =
  | { outcome: 'redriven'; invoiceId: string; state?: string }
  | { outcome: 'no_execution' }
  | { outcome: 'not_failed'; status: ExecutionStatus }
  | { outcome: 'no_case' }
  | { outcome: 'case_closed'; invoiceId: string; status: DunningCase['status'] }
  | { outcome: 'refused'; invoiceId: string; reason: string };

/** The Fail state every final failure went through before redrive: see shared/policy/schema.ts. */
const LEGACY_FAIL_STATE = 'NeedsAttention';

/** What an execution may be redriven from: it stopped short of its end. */
const REDRIVABLE_STATUSES: readonly ExecutionStatus[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

/**
 * Re-runs a failed execution from the stage that failed, once its cause is fixed: the flagged case
 * is reopened first (a stage acts only on an open case), then Step Functions redrives the execution.
 * A case that ended meanwhile (paid, terminated, closed) is never reopened.
 */
export async function redriveByOperator(deps: Uses<'clock' | 'log' | 'workflow', Cases & Timeline>, executionName: string): Promise<RedriveResult> {
  const executionArn = deps.workflow.executionArn(executionName);
  const execution = await deps.workflow.describe(executionArn);
  if (!execution) return { outcome: 'no_execution' };
  if (!REDRIVABLE_STATUSES.includes(execution.status)) return { outcome: 'not_failed', status: execution.status };
  const invoiceId = invoiceIdOf(execution.input);
  const dunningCase = invoiceId ? await deps.store.getCase(invoiceId) : undefined;
  if (!dunningCase) return { outcome: 'no_case' };
  if (dunningCase.status !== 'needs_attention' && dunningCase.status !== 'open') {
    return { outcome: 'case_closed', invoiceId: dunningCase.invoiceId, status: dunningCase.status };
  }
  if (!execution.redrivable) return { outcome: 'refused', invoiceId: dunningCase.invoiceId, reason: execution.redriveStatusReason ?? 'Step Functions will not redrive it' };

  const state = await deps.workflow.lastState(executionArn);
  // An execution started under a definition older than redrive ended in its own NeedsAttention Fail
  // state: redriving it would re-run only that state and fail again.
  if (state === LEGACY_FAIL_STATE) {
    return { outcome: 'refused', invoiceId: dunningCase.invoiceId, reason: `it started before redrive was supported and ended in ${LEGACY_FAIL_STATE}, which is all a redrive would re-run` };
  }
  const at = deps.clock.now().toISOString();
  // Still open means the flag never landed (its event is late or failed): redrive all the same.
  const reopened = dunningCase.status === 'needs_attention' ? await deps.store.reopenCase(dunningCase.invoiceId, at) : undefined;
  if (dunningCase.status === 'needs_attention' && !reopened) {
    const now = await deps.store.getCase(dunningCase.invoiceId);
    return { outcome: 'case_closed', invoiceId: dunningCase.invoiceId, status: now?.status ?? 'closed' };
  }
  await record(deps, dunningCase.invoiceId, 'redriven', {
    at,
    stage: OPERATOR_STAGE,
    detail: `redriven by operator${state ? ` from ${state}` : ''}`,
  });
  try {
    await deps.workflow.redrive(executionArn);
  } catch (error) {
    // Put the case back as it was: nothing will run it.
    if (reopened) {
      const back = dunningCase.error ?? { name: 'RedriveRefused', message: (error as Error).message };
      await deps.store.closeCase(dunningCase.invoiceId, 'needs_attention', { now: deps.clock.now().toISOString(), error: back });
      await record(deps, dunningCase.invoiceId, 'flagged', { stage: OPERATOR_STAGE, detail: `redrive refused: ${(error as Error).message}`.slice(0, 500) });
    }
    if (error instanceof ExecutionNotRedrivableError) return { outcome: 'refused', invoiceId: dunningCase.invoiceId, reason: error.message };
    throw error;
  }
  deps.log.info('execution redriven by operator', { invoiceId: dunningCase.invoiceId, executionName, state });
  return { outcome: 'redriven', invoiceId: dunningCase.invoiceId, ...(state ? { state } : {}) };
}

function invoiceIdOf(input: string | undefined): string | undefined {
  try {
    const id = (JSON.parse(input ?? '{}') as { invoiceId?: unknown }).invoiceId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
