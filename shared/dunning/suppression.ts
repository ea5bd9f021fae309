// Addresses that get no more email: a hard bounce or a complaint puts one here, and every send
// checks here first. The table holds a hash of the address, never the address itself.
import type { CaseQueries, Suppressions, Timeline } from '../domain/ports.ts';
import { createHash } from 'node:crypto';
import type { DunningCase, EmailSuppression, SuppressionReason } from '../domain/case.ts';
import type { Uses } from './deps.ts';
import { record } from './timeline.ts';

/** The key an address is suppressed under: SHA-256 of the trimmed, lower-cased address. */
export function addressKey(address: string): string {
  return createHash('sha256').update(address.trim().toLowerCase()).digest('hex');
}

export async function suppressionOf(deps: Uses<never, Suppressions>, address: string): Promise<EmailSuppression | undefined> {
  return deps.store.getEmailSuppression(addressKey(address));
}

/** Flags the case (once) and records why its emails stopped; the case itself stays as it is. */
export async function flagCaseSuppressed(
  deps: Uses<'clock' | 'log', Suppressions & Timeline>,
  dunningCase: Pick<DunningCase, 'invoiceId'>,
  reason: SuppressionReason,
  detail: string,
): Promise<void> {
  const at = deps.clock.now().toISOString();
  if (await deps.store.flagEmailSuppressed(dunningCase.invoiceId, { reason, at })) {
    await record(deps, dunningCase.invoiceId, 'email_suppressed', { at, detail: `${reason}: ${detail}` });
    deps.log.warn('the case email address is suppressed; notices stop, the banner and retries go on', {
      invoiceId: dunningCase.invoiceId,
      reason,
    });
  }
}

export function describeSuppression(suppression: EmailSuppression): string {
  return `the address is suppressed after a ${suppression.reason === 'bounce' ? 'hard bounce' : 'complaint'}; nothing was sent`;
}

export interface LiftedSuppression {
  suppression: EmailSuppression;
  /** The cases whose emailSuppressed flag was cleared: the one that caused it, and open cases to the address. */
  cases: string[];
}

/**
 * An operator lifts an address's suppression (the customer fixed their mailbox, or a complaint was
 * a mistake): later notices go out again. The flag comes off the case that caused it and off every
 * open case to the address, each with a timeline entry saying who and why. Undefined when the
 * address was not suppressed. SES's own account-level list is separate and not touched here.
 */
export async function liftSuppression(
  deps: Uses<'clock' | 'log', CaseQueries & Suppressions & Timeline>,
  address: string,
  reason: string,
): Promise<LiftedSuppression | undefined> {
  const suppression = await deps.store.liftEmailSuppression(addressKey(address));
  if (!suppression) return undefined;
  const at = deps.clock.now().toISOString();
  const wanted = address.trim().toLowerCase();
  const open = (await deps.store.listOpenCases()).filter((c) => c.customerEmail?.trim().toLowerCase() === wanted);
  const invoiceIds = [...new Set([...(suppression.invoiceId ? [suppression.invoiceId] : []), ...open.map((c) => c.invoiceId)])];
  const cleared: string[] = [];
  for (const invoiceId of invoiceIds) {
    if (!(await deps.store.clearEmailSuppressed(invoiceId, at))) continue;
    cleared.push(invoiceId);
    await record(deps, invoiceId, 'email_unsuppressed', { at, detail: `by operator: ${reason} (was: ${suppression.reason})` });
  }
  deps.log.info('email suppression lifted by operator', { reason, suppressedFor: suppression.reason, cases: cleared });
  return { suppression, cases: cleared };
}
