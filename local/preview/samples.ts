// Every notice a policy can send, rendered for a sample customer in every catalog language: what
// `npm run preview` writes out, and what the email-hygiene tests check. Pure.
import type { DunningCase } from '#shared/domain/case.ts';
import { CATALOG_LANGUAGES } from '#shared/policy/messages.ts';
import { addDays } from '#shared/domain/format.ts';
import { renderNotice, type RenderedNotice } from '#shared/notices/render.ts';
import type { NoticeSpec, Policy } from '#shared/policy/schema.ts';

/** The locale and currency a sample customer of each catalog language has. */
const SAMPLE_CUSTOMERS: Record<string, { locale: string; currency: string; name: string }> = {
  en: { locale: 'en-GB', currency: 'gbp', name: 'Ada Lovelace' },
  fr: { locale: 'fr-FR', currency: 'eur', name: 'Émilie du Châtelet' },
  de: { locale: 'de-DE', currency: 'eur', name: 'Emmy Noether' },
};

export interface PreviewNotice {
  /** The stage id, or Terminate / Recovered / ActionRequired. */
  id: string;
  /** What the notice is, for the index page. */
  label: string;
  locale: string;
  rendered: RenderedNotice;
}

/** The notices of a policy, in the order a customer could receive them. */
export function previewableNotices(policy: Policy): Array<{ id: string; label: string; notice: NoticeSpec }> {
  const label = (notice: NoticeSpec, fallback: string) => ('message' in notice ? notice.message : fallback);
  return [
    ...(policy.preDunning.enabled
      ? [{ id: 'PreDunning', label: `before the renewal: ${label(policy.preDunning.notice, 'own copy')}`, notice: policy.preDunning.notice }]
      : []),
    ...policy.stages.flatMap((s) => (s.type === 'notice' ? [{ id: s.id, label: `day ${s.day}: ${label(s.notice, 'own copy')}`, notice: s.notice }] : [])),
    { id: 'ActionRequired', label: `3-D Secure: ${label(policy.actionRequired.notice, 'own copy')}`, notice: policy.actionRequired.notice },
    { id: 'Recovered', label: `paid: ${label(policy.recovered.notice, 'own copy')}`, notice: policy.recovered.notice },
    { id: 'Terminate', label: `day ${policy.end.day} (${policy.end.action}): ${label(policy.end.notice, 'own copy')}`, notice: policy.end.notice },
  ];
}

export function sampleCase(language: string, policy: Policy): DunningCase {
  const sample = SAMPLE_CUSTOMERS[language] ?? { locale: language, currency: 'eur', name: 'Sam Sample' };
  const failedAt = '2026-03-02T09:30:00.000Z';
  return {
    invoiceId: 'in_1PreviewSample',
    customerId: 'cus_PreviewSample',
    subscriptionId: 'sub_PreviewSample',
    status: 'open',
    amountDue: { amount: 1500, currency: sample.currency },
    invoiceNumber: 'ACME-0042',
    hostedInvoiceUrl: 'https://invoice.stripe.com/i/acct_sample/test_sample',
    customerEmail: 'customer@example.com',
    customerName: sample.name,
    customerLocale: sample.locale,
    livemode: false,
    failedAt,
    terminatesAt: addDays(failedAt, policy.end.day),
    executionName: 'in_1PreviewSample',
    noticesSent: [],
    createdAt: failedAt,
    updatedAt: failedAt,
  };
}

/** Every notice of the policy in every catalog language. */
export function previewNotices(policy: Policy): PreviewNotice[] {
  return CATALOG_LANGUAGES.flatMap((language) => {
    const dunningCase = sampleCase(language, policy);
    return previewableNotices(policy).map(({ id, label, notice }) => ({
      id,
      label,
      locale: dunningCase.customerLocale!,
      rendered: renderNotice(notice, { policy, dunningCase, updatePaymentUrl: 'https://billing.example.com/u/sample-signed-link' }),
    }));
  });
}
