// A new card (a changed default, an attached card, a completed setup, or a card Stripe's account
// updater renewed) is charged at once for each unpaid case of the customer (open, or flagged
// needs_attention), instead of waiting for the next retry stage.
import type { Banners, CardBlocks, RetryLedger, CaseClaims, CaseQueries, Cases, Customers, Invoices, Suppressions, Timeline } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { CaseClosedError } from '../domain/errors.ts';
import { chargeCase } from './charge.ts';
import { howPaid } from './paid-by.ts';
import { recoverCase } from './close.ts';
import { pausedUntil } from './pause.ts';
import type { Uses } from './deps.ts';
import type { StripeEventEnvelope } from './invoice-event.ts';
import { declineFacts, record } from './timeline.ts';

/** The stage that runs the policy's end action (see close.ts, terminateCase). */
const TERMINATE_STAGE = 'Terminate';

/** What chargeAfterCardUpdate touches. */
export type ChargeAfterCardUpdateDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'caseClock' | 'log' | 'metrics' | 'workflow', Cases & CaseQueries & CardBlocks & RetryLedger & CaseClaims & Banners & Suppressions & Timeline, Invoices & Customers>;

/**
 * A new card is the best moment to retry: charge each unpaid case of the customer now instead of at
 * the next stage. A decline changes nothing: the sequence goes on where it was. A case flagged
 * needs_attention is charged too: its execution has stopped, but its customer still gets the portal
 * from the one-click link, and a payment recovers it. A paused case is not charged, nor a case flagged
 * while its end action ran (the subscription may already be cancelled), nor a closed one.
 */
export async function chargeAfterCardUpdate(
  deps: ChargeAfterCardUpdateDeps,
  event: StripeEventEnvelope,
  customerId: string,
  paymentMethod?: string,
  /** Which open cases the card concerns; all of them unless told. */
  concerns: (c: DunningCase) => Promise<boolean> = async () => true,
  /**
   * The card was reissued in place (same payment method): a case's block on it is lifted first
   * when this says the reissue fixes what blocked it.
   */
  reissued?: (block: NonNullable<DunningCase['blockedPaymentMethod']>) => boolean,
): Promise<Array<{ invoiceId: string; outcome: string }>> {
  const unpaid = (c: DunningCase | undefined): c is DunningCase => c?.status === 'open' || c?.status === 'needs_attention';
  const listed = (await deps.store.listCasesOfCustomer(customerId)).filter(unpaid);
  const outcomes: Array<{ invoiceId: string; outcome: string }> = [];
  for (const entry of listed) {
    // The customer index lags writes: only the case as it is now may be charged, never a closed one.
    const fresh = await deps.store.getCase(entry.invoiceId);
    if (!unpaid(fresh) || !(await concerns(fresh))) continue;
    const at = deps.clock.now().toISOString();
    let c = fresh;
    if (c.status === 'needs_attention' && c.stage === TERMINATE_STAGE) {
      // Flagged while the end action ran: it may have cancelled the subscription already, and
      // charging for a cancelled subscription is worse than not charging. An operator settles it.
      await record(deps, c.invoiceId, 'retry_skipped', { at, stage: 'CardUpdated', detail: 'case flagged at Terminate' });
      outcomes.push({ invoiceId: c.invoiceId, outcome: 'flagged_at_end' });
      continue;
    }
    const block = c.blockedPaymentMethod;
    if (reissued && paymentMethod && block?.id === paymentMethod && reissued(block)) {
      if (await deps.store.unblockPaymentMethod(c.invoiceId, paymentMethod, at)) {
        await record(deps, c.invoiceId, 'card_unblocked', { at, stage: 'CardUpdated', detail: `${event.type}: reissued after ${block.code}` });
      }
      c = { ...c, blockedPaymentMethod: undefined };
    }
    // A pause outlives a flag: a flagged case is judged as the open case it was.
    if (pausedUntil({ ...c, status: 'open' }, deps.clock.now())) {
      // An operator paused the case: nothing is charged until they lift it. The retry stages after
      // the pause charge the customer's default card.
      await record(deps, c.invoiceId, 'retry_skipped', { at, stage: 'CardUpdated', detail: 'case paused by operator' });
      outcomes.push({ invoiceId: c.invoiceId, outcome: 'paused' });
      continue;
    }
    let result: Awaited<ReturnType<typeof chargeCase>>;
    try {
      result = await chargeCase(deps, c, {
        holder: `event:${event.id}`,
        idempotencyKey: `dunning:${c.executionName}:card-updated:${event.id}`,
        paymentMethod,
        by: 'card_update',
      });
    } catch (error) {
      if (error instanceof CaseClosedError) {
        outcomes.push({ invoiceId: c.invoiceId, outcome: 'closed' });
        continue;
      }
      throw error;
    }
    if (result.outcome === 'paid' || result.outcome === 'already_paid') {
      if (result.outcome === 'paid') {
        await record(deps, c.invoiceId, 'retry_paid', { at, stage: 'CardUpdated', detail: event.type });
      }
      const recovered = await recoverCase(deps, c.invoiceId, result.outcome === 'paid' ? 'card_updated' : howPaid(result.invoice));
      if (recovered.closedNow && c.executionArn) await deps.workflow.stop(c.executionArn, `paid after ${event.type} (${event.id})`);
    } else if (result.outcome === 'skipped') {
      await record(deps, c.invoiceId, 'retry_skipped', { at, stage: 'CardUpdated', detail: `same card, ${result.code}` });
    } else if (result.outcome === 'declined') {
      const code = result.declineCode ?? result.code;
      await record(deps, c.invoiceId, 'retry_declined', { at, stage: 'CardUpdated', detail: code, facts: declineFacts(result) });
    }
    deps.log.info('retried after a card update', { invoiceId: c.invoiceId, customerId, eventId: event.id, outcome: result.outcome });
    outcomes.push({ invoiceId: c.invoiceId, outcome: result.outcome });
  }
  return outcomes;
}
