// Answers "what banner should My Account show this customer?" from the store.
import type { InAppNotice } from '../domain/case.ts';
import type { CaseStore } from '../domain/ports.ts';

/**
 * The customer's current banner, only while its case is still open. A stage that wrote the banner
 * a moment before the payment closed the case cannot leave a stale banner behind: it is cleared here.
 */
export async function currentNotice(store: CaseStore, customerId: string): Promise<InAppNotice | undefined> {
  const notice = await store.getNotice(customerId);
  if (!notice) return undefined;
  const dunningCase = await store.getCase(notice.invoiceId);
  if (dunningCase?.status === 'open') return notice;
  await store.clearNotice(customerId, notice.invoiceId);
  return undefined;
}
