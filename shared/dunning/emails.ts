// Sends one rendered notice whose sending right the caller has claimed, and records the outcome on
// the case's timeline. Throttles are rethrown for the state machine to retry; a permanent rejection
// (SES's account-level suppression list included) or an address we suppressed after a hard bounce
// or complaint is recorded as undeliverable and the sequence goes on.
import type { Suppressions, Timeline } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { EmailRejectedError } from '../domain/errors.ts';
import type { RenderedNotice } from '../notices/render.ts';
import type { Uses } from './deps.ts';
import { describeSuppression, flagCaseSuppressed, suppressionOf } from './suppression.ts';
import { record } from './timeline.ts';

export type SendOutcome = 'sent' | 'undeliverable';

/**
 * `giveBack` returns the caller's claim. It runs only when SES did not take the email, so the retry
 * sends it. Once SES has taken it, a later failure (the timeline write, a crash) keeps the claim:
 * a retried stage then finds it taken and sends nothing twice.
 */
export async function sendCaseEmail(
  deps: Uses<'mailer' | 'clock' | 'log' | 'metrics', Suppressions & Timeline>,
  dunningCase: DunningCase,
  stage: string,
  notice: RenderedNotice,
  giveBack: () => Promise<void>,
): Promise<SendOutcome> {
  const now = deps.clock.now().toISOString();
  if (!dunningCase.customerEmail) {
    await undeliverable(deps, dunningCase, stage, 'the customer has no email address in Stripe');
    return 'undeliverable';
  }
  // An address that hard-bounced or complained gets nothing more: sending again hurts the sender's
  // reputation and reaches nobody. The claim stays taken, so a retried stage does not try again.
  const suppression = await suppressionOf(deps, dunningCase.customerEmail);
  if (suppression) {
    await flagCaseSuppressed(deps, dunningCase, suppression.reason, suppression.detail ?? 'earlier email');
    await undeliverable(deps, dunningCase, stage, describeSuppression(suppression));
    return 'undeliverable';
  }
  let messageId: string | undefined;
  try {
    const sent = await deps.mailer.send({
      to: dunningCase.customerEmail,
      subject: notice.subject,
      text: notice.text,
      html: notice.html,
      tags: { stage, invoice: dunningCase.invoiceId },
    });
    messageId = sent?.messageId;
  } catch (error) {
    if (error instanceof EmailRejectedError) {
      deps.log.warn('email rejected; recorded as undeliverable', { invoiceId: dunningCase.invoiceId, customerId: dunningCase.customerId, stage, reason: error.message });
      await undeliverable(deps, dunningCase, stage, error.message);
      return 'undeliverable';
    }
    await giveBack();
    throw error;
  }
  // Counted as soon as SES has it: a crash before the timeline write must not lose the count.
  deps.metrics.count('NoticeSent', { Stage: stage });
  await record(deps, dunningCase.invoiceId, 'notice_sent', { at: now, stage, detail: notice.subject, messageId });
  deps.log.info('notice sent', { invoiceId: dunningCase.invoiceId, customerId: dunningCase.customerId, stage, subject: notice.subject });
  return 'sent';
}

async function undeliverable(deps: Uses<'clock' | 'metrics', Timeline>, dunningCase: DunningCase, stage: string, detail: string): Promise<void> {
  await record(deps, dunningCase.invoiceId, 'notice_undeliverable', { stage, detail });
  deps.metrics.count('NoticeUndeliverable');
}
