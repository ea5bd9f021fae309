// Cases that end outside the product: the subscription canceled elsewhere, the invoice voided or
// marked uncollectible, the customer deleted. The case closes with the reason, the banner is
// cleared, the execution is stopped, and nothing more is sent.
import type { DunningCase } from '../domain/case.ts';
import { CaseClosedError } from '../domain/errors.ts';
import type { Banners, Cases, InvoiceSnapshot, Timeline } from '../domain/ports.ts';
import type { Uses } from './deps.ts';
import { recordClose } from './close-entries.ts';

/** Closes one case from outside; true if this call closed it. */
export async function closeFromOutside(
  deps: Uses<'clock' | 'log' | 'metrics', Cases & Banners & Timeline> & Partial<Uses<'workflow'>>,
  dunningCase: DunningCase,
  reason: string,
): Promise<boolean> {
  // Our own end action (cancel, mark uncollectible) makes Stripe report the same change; the
  // Terminate stage finishes that case itself, as terminated, with its email.
  if (dunningCase.stage === 'Terminate') return false;
  const now = deps.clock.now().toISOString();
  const closed = await deps.store.closeCase(dunningCase.invoiceId, 'closed', { now, reason, from: ['open', 'needs_attention'] });
  if (!closed) {
    // Closed already: by this same change, by a call that may have died before recording it.
    const current = await deps.store.getCase(dunningCase.invoiceId);
    if (current?.status === 'closed') await recordClose(deps, undefined, current, false, now, { type: 'closed', detail: current.closedReason ?? reason });
    return false;
  }
  await recordClose(deps, undefined, closed, true, now, { type: 'closed', detail: reason });
  await deps.store.clearBanner(dunningCase.customerId, dunningCase.invoiceId);
  if (deps.workflow && dunningCase.executionArn) await deps.workflow.stop(dunningCase.executionArn, reason);
  deps.metrics.count('CaseClosedOutside');
  deps.log.info('case closed from outside', { invoiceId: dunningCase.invoiceId, reason });
  return true;
}

/**
 * For a stage that has just read the invoice: if Stripe has ended it (voided, uncollectible), close
 * the case and stand the stage down, even if the webhook saying so never arrived.
 */
export async function standDownIfEndedInStripe(deps: Uses<'clock' | 'log' | 'metrics', Cases & Banners & Timeline>, dunningCase: DunningCase, invoice: InvoiceSnapshot): Promise<void> {
  if (invoice.status !== 'void' && invoice.status !== 'uncollectible') return;
  const reason = invoice.status === 'void' ? 'invoice voided in Stripe' : 'invoice marked uncollectible in Stripe';
  await closeFromOutside(deps, dunningCase, reason);
  throw new CaseClosedError(dunningCase.invoiceId, 'closed');
}
