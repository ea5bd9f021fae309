// The My Account banner: what a notice stage stores for the site to show, and how urgent it is. Pure.
import type { BannerSeverity, DunningCase, Banner } from '../domain/case.ts';
import type { RenderedNotice } from '../notices/render.ts';
import type { Policy } from '../policy/schema.ts';

/** The stage id of the "your bank wants you to confirm the payment" notice. */
export const ACTION_REQUIRED_STAGE = 'ActionRequired';

/** Used only when a notice's copy has a banner but no button label. */
const DEFAULT_ACTION_LABEL = 'Update payment details';

/**
 * Severity escalates with the policy's notice stages: the first is `info`, the last (the one before
 * the subscription ends) is `critical`, and any in between are `warning`. A policy with one notice
 * makes it `critical`, since it is also the last. "Action required" is `warning`: the customer must
 * act for the payment to go through, but the subscription is not about to end. A stage the policy
 * does not list as a notice (e.g. a heads-up before any failure) is `info`.
 */
export function bannerSeverity(policy: Policy, stage: string): BannerSeverity {
  if (stage === ACTION_REQUIRED_STAGE) return 'warning';
  const notices = policy.stages.filter((s) => s.type === 'notice').map((s) => s.id);
  const index = notices.indexOf(stage);
  if (index < 0) return 'info';
  if (index === notices.length - 1) return 'critical';
  return index === 0 ? 'info' : 'warning';
}

/**
 * The banner a notice leaves in My Account, or undefined when its copy has none. The button goes
 * where the email's button goes: the one-click update link, or the invoice page for a confirmation.
 */
export function bannerOf(
  policy: Policy,
  dunningCase: Pick<DunningCase, 'customerId' | 'invoiceId' | 'terminatesAt'>,
  stage: string,
  rendered: Pick<RenderedNotice, 'banner' | 'action'>,
  fallbackUrl: string,
  now: string,
): Banner | undefined {
  if (!rendered.banner) return undefined;
  return {
    customerId: dunningCase.customerId,
    invoiceId: dunningCase.invoiceId,
    stage,
    severity: bannerSeverity(policy, stage),
    headline: rendered.banner.headline,
    body: rendered.banner.body,
    action: rendered.action ? { label: rendered.action.label, url: rendered.action.url } : { label: DEFAULT_ACTION_LABEL, url: fallbackUrl },
    terminatesAt: dunningCase.terminatesAt,
    createdAt: now,
  };
}
