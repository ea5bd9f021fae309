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
  /** `byTerminate`: the Terminate stage itself found the subscription ended elsewhere. */
  options: { byTerminate?: boolean } = {},
): Promise<boolean> {
  // Our own end action (cancel, mark uncollectible) makes Stripe report the same change; the
  // Terminate stage finishes that case itself, as terminated, with its email.
  if (dunningCase.stage === 'Terminate' && !options.byTerminate) return false;
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

/** The reason a case closes when its subscription was canceled in Stripe (not by Stripe's own retries). */
export const CANCELED_IN_STRIPE = 'subscription canceled in Stripe';

/** Why Stripe holds the invoice as ended for dunning, or undefined while it may still be collected. */
function endedInStripe(invoice: InvoiceSnapshot): string | undefined {
  if (invoice.status === 'void') return 'invoice voided in Stripe';
  if (invoice.status === 'uncollectible') return 'invoice marked uncollectible in Stripe';
  // A canceled subscription's open invoice stays open, but Stripe stops collecting it "to prevent
  // unexpected payment attempts after the customer has canceled" (docs.stripe.com/api/subscriptions/cancel):
  // neither a notice nor a charge of ours may follow, whether or not its webhook has come yet.
  if (invoice.subscriptionStatus === 'canceled' || invoice.subscriptionStatus === 'incomplete_expired') return CANCELED_IN_STRIPE;
  return undefined;
}

/**
 * For a stage that has just read the invoice: if Stripe has ended it (voided, uncollectible, its
 * subscription canceled), close the case and stand the stage down, even if the webhook saying so is
 * late or never arrives. A `customer.subscription.deleted` for Stripe's own end of retries that comes
 * after still tells the customer their subscription has ended (ended-in-stripe.ts).
 */
export async function standDownIfEndedInStripe(deps: Uses<'clock' | 'log' | 'metrics', Cases & Banners & Timeline>, dunningCase: DunningCase, invoice: InvoiceSnapshot): Promise<void> {
  const reason = endedInStripe(invoice);
  if (!reason) return;
  await closeFromOutside(deps, dunningCase, reason);
  throw new CaseClosedError(dunningCase.invoiceId, 'closed');
}
