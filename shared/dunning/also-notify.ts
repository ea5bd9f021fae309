// The policy file's `alsoNotify`: when a case opens for an amount at or above a threshold in its
// currency, an internal address (finance, an account manager) gets one plain email about it.
import type { CaseClaims, Timeline } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { EmailRejectedError } from '../domain/errors.ts';
import { escapeHtml } from '../notices/layout.ts';
import { formatMoney } from '../domain/format.ts';
import { alsoNotifyFor, type PolicySet } from '../policy/segments.ts';
import type { Uses } from './deps.ts';
import { record } from './timeline.ts';

/** The claim (in the case's noticesSent) of alsoNotify rule `index`: `AlsoNotify`, `AlsoNotify2`, … */
export function alsoNotifyClaim(index: number): string {
  return index === 0 ? 'AlsoNotify' : `AlsoNotify${index + 1}`;
}

/**
 * Sends each matching rule's email once per case: claimed like a notice, so a redelivered event or a
 * retried Lambda sends nothing twice. A throttle gives the claim back and is rethrown (the event is
 * redelivered); a rejected address is recorded and does not hold up the case.
 */
export async function alsoNotifyOnOpen(deps: Uses<'mailer' | 'clock' | 'log', CaseClaims & Timeline>, set: PolicySet, dunningCase: DunningCase): Promise<void> {
  for (const { index, rule } of alsoNotifyFor(set, dunningCase.amountDue)) {
    const claim = alsoNotifyClaim(index);
    const now = deps.clock.now().toISOString();
    if (!(await deps.store.claimStageEmail(dunningCase.invoiceId, claim, now))) continue;
    const message = internalEmail(dunningCase);
    try {
      await deps.mailer.send({ to: rule.email, ...message, tags: { stage: claim, invoice: dunningCase.invoiceId } });
    } catch (error) {
      if (error instanceof EmailRejectedError) {
        await record(deps, dunningCase.invoiceId, 'notice_undeliverable', { at: now, stage: claim, detail: error.message.slice(0, 200) });
        deps.log.warn('internal notice rejected', { invoiceId: dunningCase.invoiceId, stage: claim });
        continue;
      }
      await deps.store.releaseStageEmail(dunningCase.invoiceId, claim, now);
      throw error;
    }
    // The timeline never holds an address: the rule's number says who was told.
    await record(deps, dunningCase.invoiceId, 'also_notified', { at: now, stage: claim, detail: `alsoNotify[${index}]: ${message.subject}` });
    deps.log.info('internal notice sent', { invoiceId: dunningCase.invoiceId, stage: claim });
  }
}

/**
 * Plain and in English: it is for the business, not the customer. It names the customer, the invoice
 * and the amount, and links the invoice in the Stripe Dashboard; nothing else about the customer.
 */
export function internalEmail(dunningCase: DunningCase): { subject: string; text: string; html: string } {
  const amount = formatMoney(dunningCase.amountDue, 'en-GB');
  const who = dunningCase.customerName ?? dunningCase.customerId;
  const invoice = dunningCase.invoiceNumber ?? dunningCase.invoiceId;
  const url = `https://dashboard.stripe.com/${dunningCase.livemode ? '' : 'test/'}invoices/${dunningCase.invoiceId}`;
  const subject = `Failed payment of ${amount}: ${who}, invoice ${invoice}`;
  const lines = [
    `A renewal payment of ${amount} failed, and its dunning case has opened.`,
    `Customer: ${who}`,
    `Invoice: ${invoice}`,
    `Amount: ${amount}`,
    `The invoice in Stripe: ${url}`,
    'You get this because the dunning policy file lists this address under "alsoNotify".',
  ];
  const html = `<!doctype html><html lang="en"><body>${lines
    .map((line) => `<p>${line === lines[4] ? `The invoice in Stripe: <a href="${escapeHtml(url)}">${escapeHtml(url)}</a>` : escapeHtml(line)}</p>`)
    .join('')}</body></html>`;
  return { subject, text: `${lines.join('\n\n')}\n`, html };
}
