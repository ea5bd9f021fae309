// What an operator does to one case from outside (the `dunning` CLI): charge it now, close it. Each
// goes through the same code as the product's own paths: a charge is the card-update charge, a
// close is a close from outside.
import type { DunningCase } from '../domain/case.ts';
import { chargeCase } from './charge.ts';
import { recoverCase } from './close.ts';
import type { IngestDeps } from './deps.ts';
import { closeFromOutside } from './outside.ts';
import { howPaid } from './paid-by.ts';

/** The timeline's stage name for what an operator did. */
export const OPERATOR_STAGE = 'Operator';

export type RetryNowResult =
  | { outcome: 'paid'; recovered: boolean }
  | { outcome: 'already_paid'; recovered: boolean }
  | { outcome: 'declined'; code: string; message: string }
  | { outcome: 'skipped'; code: string }
  | { outcome: 'busy' }
  | { outcome: 'not_open'; status: DunningCase['status'] };

/**
 * Charges the case's open invoices now with the customer's default card, as a card update does, and
 * recovers the case if that pays. A decline changes nothing else: the sequence goes on. An operator
 * may charge a paused or flagged case: it is an explicit act, and a payment is always welcome.
 */
export async function retryNow(deps: IngestDeps, dunningCase: DunningCase): Promise<RetryNowResult> {
  if (dunningCase.status !== 'open' && dunningCase.status !== 'needs_attention') return { outcome: 'not_open', status: dunningCase.status };
  const now = deps.clock.now();
  const at = now.toISOString();
  const result = await chargeCase(deps, dunningCase, {
    holder: OPERATOR_STAGE.toLowerCase(),
    // Unique per request: each operator retry is a new attempt, never a replay of an earlier one.
    idempotencyKey: `dunning:${dunningCase.executionName}:operator:${now.getTime()}`,
  });
  switch (result.outcome) {
    case 'paid':
    case 'already_paid': {
      if (result.outcome === 'paid') await deps.store.appendTimeline(dunningCase.invoiceId, { at, type: 'retry_paid', stage: OPERATOR_STAGE });
      const recovered = await recoverCase(deps, dunningCase.invoiceId, result.outcome === 'paid' ? 'workflow_retry' : howPaid(result.invoice));
      if (recovered.closedNow && dunningCase.executionArn) await deps.workflow.stop(dunningCase.executionArn, 'paid by an operator retry');
      return { outcome: result.outcome, recovered: recovered.recovered };
    }
    case 'declined': {
      const code = result.declineCode ?? result.code;
      await deps.store.appendTimeline(dunningCase.invoiceId, { at, type: 'retry_declined', stage: OPERATOR_STAGE, detail: code });
      return { outcome: 'declined', code, message: result.message };
    }
    case 'skipped':
      await deps.store.appendTimeline(dunningCase.invoiceId, { at, type: 'retry_skipped', stage: OPERATOR_STAGE, detail: `same card, ${result.code}` });
      return { outcome: 'skipped', code: result.code };
    case 'busy':
      return { outcome: 'busy' };
    case 'left_to_stripe':
      // Only scheduled retries defer to Stripe; an operator's never does.
      throw new Error(`unexpected charge outcome ${result.outcome}`);
  }
}

/** Closes the case from outside with the operator's reason; its execution is stopped. */
export async function closeByOperator(deps: IngestDeps, dunningCase: DunningCase, reason: string): Promise<boolean> {
  return closeFromOutside(deps, dunningCase, `closed by operator: ${reason}`);
}
