// Answers "what banner should My Account show this customer?" from the store.
import { PRE_DUNNING_STAGE, type InAppNotice } from '../domain/case.ts';
import type { CaseStore } from '../domain/ports.ts';

/** Exactly what the notice API returns for a customer with an open case: the banner as stored, less its bookkeeping. */
export type BannerView = Pick<InAppNotice, 'stage' | 'severity' | 'headline' | 'body' | 'action' | 'terminatesAt'>;

/**
 * The customer's current banner, only while its case is still open. A stage that wrote the banner a
 * moment before the payment closed the case cannot leave a stale banner behind: it is cleared here.
 */
export async function currentNotice(store: CaseStore, customerId: string, now: Date = new Date()): Promise<BannerView | undefined> {
  const notice = await store.getNotice(customerId);
  if (!notice) return undefined;
  if (notice.expiresAt && notice.expiresAt <= now.toISOString()) {
    await store.clearNotice(customerId, notice.invoiceId);
    return undefined;
  }
  // A pre-dunning heads-up comes before any case: it lasts until the renewal (expiresAt).
  const view = (): BannerView => {
    const { stage, severity, headline, body, action, terminatesAt } = notice;
    return { stage, severity, headline, body, action: { label: action.label, url: action.url }, terminatesAt };
  };
  if (notice.stage === PRE_DUNNING_STAGE) return view();
  const dunningCase = await store.getCase(notice.invoiceId);
  if (dunningCase?.status === 'open') return view();
  await store.clearNotice(customerId, notice.invoiceId);
  return undefined;
}
