// invoice.paid: the case closes at once as recovered, and its execution is stopped; a case with
// another invoice still open goes on for what is still owed.
import type { Banners, CaseClaims, Cases, Invoices, Suppressions, Timeline } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { recoverCase } from './close.ts';
import type { Uses } from './deps.ts';
import { ignore, type IngestResult } from './ingest-result.ts';
import { parseInvoice, type StripeEventEnvelope } from './invoice-event.ts';
import { howPaid } from './paid-by.ts';
import { record } from './timeline.ts';

/** What closePaidCase touches. */
export type ClosePaidCaseDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics' | 'workflow', Cases & CaseClaims & Banners & Suppressions & Timeline, Invoices>;

export async function closePaidCase(deps: ClosePaidCaseDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const invoice = parseInvoice(event.data.object, event.id);
  const existing = await deps.store.findCaseOfInvoice(invoice.id);
  if (!existing) return ignore(deps, event, 'no dunning case for this invoice', invoice.id);
  const caseInvoiceId = existing.invoiceId;
  // How it was paid: Stripe's own retry, the customer on the hosted page, out of band, or ours. Our
  // own charge (our idempotency key on the event's request) moved the money through Stripe: the
  // event says all, and only another payer's needs Stripe's record of how it was paid.
  const ours = event.request?.idempotency_key?.startsWith('dunning:') ?? false;
  const paidBy = howPaid(ours ? { paidOffStripe: false } : await deps.stripe.getInvoice(invoice.id, { expectPaid: true }), event.request);

  // Close first: from this write on, every stage that checks the case stands down.
  const result = await recoverCase(deps, caseInvoiceId, paidBy);
  if (!result.recovered) {
    if (result.status === 'open' || result.status === 'needs_attention') {
      // Another invoice of the case is still open: the sequence goes on for what is still owed.
      return { action: 'invoice_paid_partially', invoiceId: invoice.id, caseInvoiceId };
    }
    return ignore(deps, event, `case is ${result.status}`, invoice.id);
  }
  if (!result.closedNow) {
    // A stage saw the payment before this event did and could only record `invoice_paid`.
    if (paidBy !== 'invoice_paid') await deps.store.refineRecoveredBy(caseInvoiceId, paidBy, deps.clock.now().toISOString());
    // Our own retry was paid first; its execution is finishing the recovery itself.
    return { action: 'case_exists', invoiceId: caseInvoiceId, status: 'recovered' };
  }
  await stopExecution(deps, existing, `invoice ${invoice.id} paid (${event.id})`, event.type);
  deps.log.info('case recovered by invoice.paid', { invoiceId: caseInvoiceId, eventId: event.id, recoveredBy: paidBy });
  return { action: 'case_recovered', invoiceId: caseInvoiceId };
}

/** Stops the case's execution, if it has one, and says which event did. */
export async function stopExecution(deps: Uses<'clock' | 'workflow', Timeline>, dunningCase: DunningCase, cause: string, eventType: string): Promise<void> {
  if (!dunningCase.executionArn) return;
  await deps.workflow.stop(dunningCase.executionArn, cause);
  await record(deps, dunningCase.invoiceId, 'execution_stopped', { detail: eventType });
}
