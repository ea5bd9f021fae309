// What routing one Stripe event came to: the union the webhook and EventBridge handlers, the CLI
// and the tests read. Every use case the router dispatches to answers with one of these.
import type { DunningCase } from '../domain/case.ts';
import type { Uses } from './deps.ts';
import type { StripeEventEnvelope } from './invoice-event.ts';
import type { PreDunningResult } from './pre-dunning.ts';
import type { NoticeStageResult } from './stages.ts';

export type IngestResult =
  | { action: 'invoice_joined'; invoiceId: string; caseInvoiceId: string }
  | { action: 'invoice_paid_partially'; invoiceId: string; caseInvoiceId: string }
  | { action: 'action_required_notified'; invoiceId: string; notice: 'sent' | 'undeliverable' | 'already_sent' }
  | { action: 'notice_sent'; invoiceId: string; stage: string; outcome: Exclude<NoticeStageResult['outcome'], 'early'> }
  | { action: 'card_update_retried'; outcomes: Array<{ invoiceId: string; outcome: string }> }
  | { action: 'card_removed'; paymentMethod: string; invoiceIds: string[] }
  | { action: 'case_closed'; invoiceIds: string[]; reason: string }
  | { action: 'case_opened'; invoiceId: string; executionArn: string }
  | { action: 'case_exists'; invoiceId: string; status: DunningCase['status'] }
  | { action: 'case_recovered'; invoiceId: string }
  | { action: 'ignored'; reason: string }
  | Exclude<PreDunningResult, { action: 'ignored' }>;

/** An event acknowledged and left alone: logged and counted, with why. */
export function ignore(deps: Uses<'log' | 'metrics'>, event: StripeEventEnvelope, reason: string, invoiceId?: string): IngestResult {
  deps.log.info('event ignored', { eventId: event.id, type: event.type, invoiceId, reason });
  deps.metrics.count('EventIgnored');
  return { action: 'ignored', reason };
}
