// Turns a policy notice and a case into the email and banner a customer sees. Pure: no I/O.
import type { DunningCase } from '../domain/case.ts';
import type { Placeholder } from '../policy/schema.ts';
import type { NoticeCopy, Policy } from '../policy/schema.ts';
import { formatDate, formatMoney, safeLocale } from './format.ts';

export interface RenderedNotice {
  subject: string;
  heading: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  banner?: string;
  text: string;
  html: string;
}

export interface NoticeContext {
  policy: Policy;
  dunningCase: DunningCase;
  /** Where the customer updates their card (a Stripe billing portal session, or My Account). */
  updatePaymentUrl?: string;
}

export function placeholderValues({ policy, dunningCase, updatePaymentUrl }: NoticeContext): Record<Placeholder, string> {
  const locale = safeLocale(dunningCase.customerLocale, policy.locale);
  return {
    customerName: firstName(dunningCase.customerName) ?? 'there',
    brandName: policy.brandName,
    amount: formatMoney(dunningCase.amountDue, locale),
    invoiceNumber: dunningCase.invoiceNumber ?? dunningCase.invoiceId,
    failedOn: formatDate(dunningCase.failedAt, locale, policy.timeZone),
    terminatesOn: formatDate(dunningCase.terminatesAt, locale, policy.timeZone),
    updatePaymentUrl: updatePaymentUrl ?? policy.myAccountUrl,
    myAccountUrl: policy.myAccountUrl,
    invoiceUrl: dunningCase.hostedInvoiceUrl ?? policy.myAccountUrl,
  };
}

export function fill(template: string, values: Record<Placeholder, string>): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? values[name as Placeholder] : whole,
  );
}

export function renderNotice(copy: NoticeCopy, context: NoticeContext): RenderedNotice {
  const values = placeholderValues(context);
  const subject = fill(copy.subject, values);
  const heading = fill(copy.heading, values);
  const paragraphs = copy.body.map((p) => fill(p, values));
  const url = copy.link === 'invoice' ? values.invoiceUrl : values.updatePaymentUrl;
  const action = copy.action ? { label: fill(copy.action, values), url } : undefined;
  const banner = copy.banner ? fill(copy.banner, values) : undefined;

  const text = [heading, '', ...paragraphs.flatMap((p) => [p, '']), ...(action ? [`${action.label}: ${action.url}`, ''] : [])]
    .join('\n')
    .trimEnd();

  const html = [
    '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;color:#1a1a1a;line-height:1.5">',
    `<h1 style="font-size:20px">${escapeHtml(heading)}</h1>`,
    ...paragraphs.map((p) => `<p>${linkify(escapeHtml(p))}</p>`),
    action
      ? `<p><a href="${escapeAttr(action.url)}" style="display:inline-block;padding:10px 18px;background:#0a5cff;color:#fff;text-decoration:none;border-radius:4px">${escapeHtml(action.label)}</a></p>`
      : '',
    '</body></html>',
  ].join('\n');

  return { subject, heading, paragraphs, action, banner, text, html };
}

function firstName(name: string | undefined): string | undefined {
  const first = name?.trim().split(/\s+/)[0];
  return first || undefined;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

function escapeAttr(text: string): string {
  return escapeHtml(text);
}

/** Makes bare http(s) URLs in already-escaped text clickable. */
function linkify(escaped: string): string {
  return escaped.replace(/https?:\/\/[^\s()<>]+/g, (url) => `<a href="${url}">${url}</a>`);
}
