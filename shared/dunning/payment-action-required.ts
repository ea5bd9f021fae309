// invoice.payment_action_required: the bank wants the customer to authenticate (3-D Secure). The
// case opens as for a failure, the card is blocked, and the customer is told once where to confirm.
import type { AccessRecords, Banners, CardBlocks, RetryLedger, CaseClaims, CaseQueries, Cases, Customers, Invoices, Suppressions, Timeline } from '../domain/ports.ts';
import { renderNotice } from '../notices/render.ts';
import { ACTION_REQUIRED_STAGE, bannerOf } from './banner.ts';
import { AUTHENTICATION_REQUIRED } from '../domain/ports.ts';
import { policyOf, type Uses } from './deps.ts';
import { sendCaseEmail } from './emails.ts';
import type { IngestResult } from './ingest-result.ts';
import { parseInvoice, type StripeEventEnvelope } from './invoice-event.ts';
import { openCase } from './failed-renewal.ts';
import { pausedUntil } from './pause.ts';
import { record } from './timeline.ts';

/** What askForAuthentication touches. */
export type AskForAuthenticationDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'caseClock' | 'log' | 'metrics' | 'workflow', Cases & CaseQueries & CardBlocks & RetryLedger & CaseClaims & Banners & Suppressions & AccessRecords & Timeline, Invoices & Customers>;

/**
 * The bank wants the customer to authenticate (3-D Secure). Off-session retries of that card cannot
 * succeed, so it is blocked, and the customer is sent, once, a notice linking the invoice's hosted
 * page, where they can confirm the payment.
 */
export async function askForAuthentication(deps: AskForAuthenticationDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const opened = await openCase(deps, event);
  if (opened.action === 'ignored') return opened;
  const invoice = parseInvoice(event.data.object, event.id);
  const dunningCase = await deps.store.getCase(invoice.id);
  if (!dunningCase || dunningCase.status !== 'open') return { action: 'case_exists', invoiceId: invoice.id, status: dunningCase?.status ?? 'open' };

  const now = deps.clock.now().toISOString();
  const card = await deps.stripe.getDefaultPaymentMethod(dunningCase.customerId, dunningCase.subscriptionId);
  if (card && dunningCase.blockedPaymentMethod?.id !== card) {
    await deps.store.blockPaymentMethod(invoice.id, { id: card, code: AUTHENTICATION_REQUIRED, at: now });
  }
  if (pausedUntil(dunningCase, deps.clock.now())) {
    // The card is blocked all the same; the invoice page stays where the customer can confirm.
    await record(deps, invoice.id, 'notice_undeliverable', { at: now, stage: 'ActionRequired', detail: 'not sent: case paused by operator' });
    return { action: 'case_exists', invoiceId: invoice.id, status: dunningCase.status };
  }
  const policy = policyOf(deps, dunningCase);
  const rendered = renderNotice(policy.actionRequired.notice, { policy, dunningCase });
  if (!(await deps.store.claimStageEmail(invoice.id, 'ActionRequired', now))) {
    return { action: 'action_required_notified', invoiceId: invoice.id, notice: 'already_sent' };
  }
  const banner = bannerOf(policy, dunningCase, ACTION_REQUIRED_STAGE, rendered, dunningCase.hostedInvoiceUrl ?? policy.brand.myAccountUrl, now);
  if (banner) await deps.store.putBanner(banner);
  const notice = await sendCaseEmail(deps, dunningCase, 'ActionRequired', rendered, () =>
    deps.store.releaseStageEmail(invoice.id, 'ActionRequired', now),
  );
  return { action: 'action_required_notified', invoiceId: invoice.id, notice };
}
