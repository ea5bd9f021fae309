// Answers "what banner should My Account show this customer?" from the store.
import { PRE_DUNNING_STAGE, type Banner } from '../domain/case.ts';
import type { Banners, Cases } from '../domain/ports.ts';

/** Exactly what the banner API (GET /customers/{id}/notice) returns for a customer with an open case: the banner as stored, less its bookkeeping. */
export type BannerView = Pick<Banner, 'stage' | 'severity' | 'headline' | 'body' | 'action' | 'terminatesAt'>;

/** What the banner API reads, and all it may do: it is read-only in IAM too (get-notice's role). */
export type BannerReader = Pick<Banners, 'getBanner'> & Pick<Cases, 'getCase'>;

/**
 * The customer's current banner, only while its case is still open. A banner whose heads-up has
 * expired, or whose case has ended (a stage wrote it a moment before the payment closed the case),
 * is not shown. Reading never writes: the closers clear banners, and a stale one is only ever skipped.
 */
export async function currentBanner(store: BannerReader, customerId: string, now: Date = new Date()): Promise<BannerView | undefined> {
  const banner = await store.getBanner(customerId);
  if (!banner) return undefined;
  if (banner.expiresAt && banner.expiresAt <= now.toISOString()) return undefined;
  // A pre-dunning heads-up comes before any case: it lasts until the renewal (expiresAt).
  const view = (): BannerView => {
    const { stage, severity, headline, body, action, terminatesAt } = banner;
    return { stage, severity, headline, body, action: { label: action.label, url: action.url }, terminatesAt };
  };
  if (banner.stage === PRE_DUNNING_STAGE) return view();
  const dunningCase = await store.getCase(banner.invoiceId);
  return dunningCase?.status === 'open' ? view() : undefined;
}
