// Sends one rendered notice and records the outcome on the case's timeline. Throttles are rethrown
// for the state machine to retry; a permanent rejection is recorded and the sequence goes on.
import type { DunningCase } from '../domain/case.ts';
import { EmailRejectedError } from '../domain/errors.ts';
import type { RenderedNotice } from '../notices/render.ts';
import type { DunningDeps } from './deps.ts';

export type SendOutcome = 'sent' | 'undeliverable';

export async function sendCaseEmail(
  deps: DunningDeps,
  dunningCase: DunningCase,
  stage: string,
  notice: RenderedNotice,
): Promise<SendOutcome> {
  const now = deps.clock.now().toISOString();
  if (!dunningCase.customerEmail) {
    await deps.store.appendTimeline(dunningCase.invoiceId, {
      at: now,
      type: 'notice_undeliverable',
      stage,
      detail: 'the customer has no email address in Stripe',
    });
    deps.metrics.count('NoticeUndeliverable');
    return 'undeliverable';
  }
  try {
    await deps.mailer.send({
      to: dunningCase.customerEmail,
      subject: notice.subject,
      text: notice.text,
      html: notice.html,
      tags: { stage, invoice: dunningCase.invoiceId },
    });
  } catch (error) {
    if (!(error instanceof EmailRejectedError)) throw error;
    deps.log.warn('email rejected; recorded as undeliverable', { invoiceId: dunningCase.invoiceId, stage, reason: error.message });
    await deps.store.appendTimeline(dunningCase.invoiceId, {
      at: now,
      type: 'notice_undeliverable',
      stage,
      detail: error.message,
    });
    deps.metrics.count('NoticeUndeliverable');
    return 'undeliverable';
  }
  await deps.store.appendTimeline(dunningCase.invoiceId, { at: now, type: 'notice_sent', stage, detail: notice.subject });
  deps.metrics.count('NoticeSent');
  deps.log.info('notice sent', { invoiceId: dunningCase.invoiceId, stage, subject: notice.subject });
  return 'sent';
}
