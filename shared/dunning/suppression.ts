// Addresses that get no more email: a hard bounce or a complaint puts one here, and every send
// checks here first. The table holds a hash of the address, never the address itself.
import { createHash } from 'node:crypto';
import type { DunningCase, EmailSuppression, SuppressionReason } from '../domain/case.ts';
import type { DunningDeps } from './deps.ts';

/** The key an address is suppressed under: SHA-256 of the trimmed, lower-cased address. */
export function addressKey(address: string): string {
  return createHash('sha256').update(address.trim().toLowerCase()).digest('hex');
}

export type SuppressionDeps = Pick<DunningDeps, 'store' | 'clock' | 'log' | 'metrics'>;

export async function suppressionOf(deps: Pick<DunningDeps, 'store'>, address: string): Promise<EmailSuppression | undefined> {
  return deps.store.getEmailSuppression(addressKey(address));
}

/** Flags the case (once) and records why its emails stopped; the case itself stays as it is. */
export async function flagCaseSuppressed(
  deps: SuppressionDeps,
  dunningCase: Pick<DunningCase, 'invoiceId'>,
  reason: SuppressionReason,
  detail: string,
): Promise<void> {
  const at = deps.clock.now().toISOString();
  if (await deps.store.flagEmailSuppressed(dunningCase.invoiceId, { reason, at })) {
    await deps.store.appendTimeline(dunningCase.invoiceId, { at, type: 'email_suppressed', detail: `${reason}: ${detail}` });
    deps.log.warn('the case email address is suppressed; notices stop, the banner and retries go on', {
      invoiceId: dunningCase.invoiceId,
      reason,
    });
  }
}

export function describeSuppression(suppression: EmailSuppression): string {
  return `the address is suppressed after a ${suppression.reason === 'bounce' ? 'hard bounce' : 'complaint'}; nothing was sent`;
}
