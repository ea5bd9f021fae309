// Turns a policy notice and a case into the email and banner a customer sees, in their language.
// Pure: no I/O. Everything from outside (names from Stripe, URLs) is escaped on the way into HTML.
import type { DunningCase } from '../domain/case.ts';
import type { NoticeCopy, NoticeSpec, Placeholder, Policy } from '../policy/schema.ts';
import { LINK_PATTERN, PLACEHOLDERS, URL_PLACEHOLDERS } from '../policy/schema.ts';
import { CATALOGS, catalogFor, MESSAGE_LINKS, REFERENCE_LANGUAGE } from './catalog.ts';
import type { BannerCopy, Catalog } from './locales/catalog-shape.ts';
import { languageOf } from '../policy/messages.ts';
import { isTimeZone } from '../policy/time-zone.ts';
import { formatDate, formatMoney, safeLocale } from '../domain/format.ts';
import { emailHtml, emailText, escapeHtml } from './layout.ts';

export interface RenderedNotice {
  subject: string;
  heading: string;
  /** The body's paragraphs as plain text, greeting first. */
  paragraphs: string[];
  action?: { label: string; url: string };
  /** The My Account banner's headline and body, when the notice sets one. */
  banner?: BannerCopy;
  text: string;
  html: string;
  /** The language the notice is written in ("en", "fr", …), for <html lang> and logs. */
  language: string;
}

export interface NoticeContext {
  policy: Policy;
  dunningCase: DunningCase;
  /** Where the customer updates their card. Defaults to the brand's My Account URL. */
  updatePaymentUrl?: string;
}

/** A notice's copy in one language, with what is needed to frame it. */
interface ResolvedCopy {
  copy: Omit<NoticeCopy, 'banner'>;
  /** A catalog message has its own banner headline; a policy's banner text goes under the email's heading. */
  banner?: BannerCopy;
  /** Catalog messages start with the catalog's greeting; a policy's own copy writes its own. */
  greet: boolean;
  language: string;
  /** The locale money and dates are formatted in: the customer's, when the text is in their language. */
  formatLocale: string;
  catalog: Catalog;
}

export function renderNotice(notice: NoticeSpec, context: NoticeContext): RenderedNotice {
  const { policy, dunningCase } = context;
  const resolved = resolveCopy(notice, policy, dunningCase.customerLocale);
  const { copy, catalog } = resolved;
  const values = placeholderValues(context, resolved);
  const html = htmlValues(values);

  const greetingTemplate = values.customerName ? catalog.greeting.named : catalog.greeting.anonymous;
  const bodyTemplates = resolved.greet ? [greetingTemplate, ...copy.body] : copy.body;
  const url = copy.link === 'invoice' ? values.invoiceUrl : values.updatePaymentUrl;
  const action = copy.action ? { label: fillText(copy.action, values, 'plain'), url } : undefined;
  const footerTemplates = [catalog.layout.about, catalog.layout.manage, catalog.layout.support];

  const subject = oneLine(fillText(copy.subject, values, 'plain'));
  const heading = fillText(copy.heading, values, 'plain');
  const paragraphs = bodyTemplates.map((t) => fillText(t, values, 'text'));
  const banner = resolved.banner
    ? { headline: fillText(resolved.banner.headline, values, 'plain'), body: fillText(resolved.banner.body, values, 'plain') }
    : undefined;

  const text = emailText({ heading, paragraphs, action, colon: catalog.layout.colon, footer: footerTemplates.map((t) => fillText(t, values, 'text')) });
  const htmlBody = emailHtml({
    lang: resolved.language,
    subject,
    preheader: banner?.body ?? paragraphs[resolved.greet ? 1 : 0] ?? heading,
    productName: policy.brand.productName,
    logoUrl: policy.brand.logoUrl,
    colour: policy.brand.colour,
    heading: fillHtml(copy.heading, values, html),
    paragraphs: bodyTemplates.map((t) => fillHtml(t, values, html)),
    action: action && copy.action ? { label: fillHtml(copy.action, values, html, false), url } : undefined,
    buttonHelp: escapeHtml(catalog.layout.buttonHelp),
    footer: footerTemplates.map((t) => fillHtml(t, values, html)),
  });

  return { subject, heading, paragraphs, action, banner, text, html: htmlBody, language: resolved.language };
}

/**
 * Picks the copy for the customer's locale. Catalog messages and per-locale copy follow the
 * customer's language and fall back to the policy's default locale; a policy's single inline copy
 * is in the default locale. The policy schema guarantees the fallback exists.
 */
export function resolveCopy(notice: NoticeSpec, policy: Policy, customerLocale: string | undefined): ResolvedCopy {
  const customer = customerLocale ? safeLocale(customerLocale, policy.locale) : undefined;
  const fallbackLanguage = languageOf(policy.locale);
  const frame = ({ banner, ...copy }: NoticeCopy, language: string, greet: boolean, bannerCopy?: BannerCopy): ResolvedCopy => ({
    copy,
    banner: bannerCopy ?? (banner ? { headline: copy.heading, body: banner } : undefined),
    greet,
    language,
    formatLocale: customer && languageOf(customer) === language ? customer : languageOf(policy.locale) === language ? policy.locale : language,
    catalog: catalogFor(language) ?? catalogFor(fallbackLanguage) ?? CATALOGS[REFERENCE_LANGUAGE]!,
  });

  if ('message' in notice) {
    const wanted = customer ? languageOf(customer) : fallbackLanguage;
    const catalog = catalogFor(wanted) ?? catalogFor(fallbackLanguage) ?? CATALOGS[REFERENCE_LANGUAGE]!;
    const { banner, ...message } = catalog.messages[notice.message];
    return frame({ ...message, body: [...message.body], link: MESSAGE_LINKS[notice.message] }, catalog.language, true, banner);
  }
  if ('locales' in notice) {
    const entries = Object.entries(notice.locales).map(([tag, copy]) => ({ tag: safeLocale(tag, tag), copy }));
    const pick =
      (customer && entries.find((e) => e.tag.toLowerCase() === customer.toLowerCase())) ||
      (customer && entries.find((e) => languageOf(e.tag) === languageOf(customer))) ||
      entries.find((e) => e.tag.toLowerCase() === policy.locale.toLowerCase()) ||
      entries.find((e) => languageOf(e.tag) === fallbackLanguage) ||
      entries[0]!;
    const resolved = frame(pick.copy, languageOf(pick.tag), false);
    // "de-CH" copy is formatted as de-CH even for a de-DE customer: the author chose that variant.
    return customer && languageOf(customer) === languageOf(pick.tag) ? resolved : { ...resolved, formatLocale: pick.tag };
  }
  return frame(notice, fallbackLanguage, false);
}

export function placeholderValues(context: NoticeContext, resolved?: ResolvedCopy): Record<Placeholder, string> {
  const { policy, dunningCase, updatePaymentUrl } = context;
  const r = resolved ?? resolveCopy({ message: 'payment_failed' }, policy, dunningCase.customerLocale);
  const timeZone = isTimeZone(dunningCase.customerTimeZone) ? dunningCase.customerTimeZone : policy.timeZone;
  return {
    customerName: firstName(dunningCase.customerName) ?? (r.greet ? '' : r.catalog.nameFallback),
    productName: policy.brand.productName,
    amount: formatMoney(dunningCase.amountDue, r.formatLocale),
    invoiceNumber: dunningCase.invoiceNumber ?? dunningCase.invoiceId,
    failedOn: formatDate(dunningCase.failedAt, r.formatLocale, timeZone),
    terminatesOn: formatDate(dunningCase.terminatesAt, r.formatLocale, timeZone),
    updatePaymentUrl: updatePaymentUrl ?? policy.brand.myAccountUrl,
    myAccountUrl: policy.brand.myAccountUrl,
    invoiceUrl: dunningCase.hostedInvoiceUrl ?? policy.brand.myAccountUrl,
    supportEmail: policy.brand.supportEmail,
  };
}

/** Fills placeholders in plain text; unknown names are left as written (the schema rejects them). */
export function fill(template: string, values: Record<Placeholder, string>): string {
  return fillText(template, values, 'plain');
}

/**
 * 'text': links become "label (url)", for the plain-text part. 'plain': links become their label,
 * for subjects, headings and the banner, where a URL would be noise.
 */
function fillText(template: string, values: Record<Placeholder, string>, mode: 'text' | 'plain'): string {
  return splitLinks(template)
    .map((part) => {
      if (part.kind === 'text') return fillPlaceholders(part.text, (name) => values[name]);
      const label = fillPlaceholders(part.label, (name) => values[name]);
      return mode === 'text' ? `${label} (${values[part.url]})` : label;
    })
    .join('');
}

function fillHtml(template: string, values: Record<Placeholder, string>, html: Record<Placeholder, string>, links = true): string {
  return splitLinks(template)
    .map((part) => {
      if (part.kind === 'text') return fillPlaceholders(part.text, (name) => (links ? html[name] : escapeHtml(values[name])), escapeHtml);
      const label = fillPlaceholders(part.label, (name) => escapeHtml(values[name]), escapeHtml);
      return links ? anchor(values[part.url], label) : label;
    })
    .join('');
}

/** Each placeholder's HTML: URLs and the support address become links, everything else is escaped. */
function htmlValues(values: Record<Placeholder, string>): Record<Placeholder, string> {
  const html = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, escapeHtml(v)])) as Record<Placeholder, string>;
  for (const name of URL_PLACEHOLDERS) html[name] = anchor(values[name], escapeHtml(values[name]));
  html.supportEmail = anchor(`mailto:${values.supportEmail}`, escapeHtml(values.supportEmail));
  return html;
}

function anchor(href: string, labelHtml: string): string {
  // Only our own http(s)/mailto URLs reach here; anything else would be a bug, so it is not linked.
  if (!/^(https?:|mailto:)/i.test(href)) return labelHtml;
  return `<a href="${escapeHtml(href)}" style="color:inherit;text-decoration:underline;overflow-wrap:anywhere;word-break:break-word">${labelHtml}</a>`;
}

type Part = { kind: 'text'; text: string } | { kind: 'link'; label: string; url: (typeof URL_PLACEHOLDERS)[number] };

function splitLinks(template: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of template.matchAll(LINK_PATTERN)) {
    const url = match[2] as (typeof URL_PLACEHOLDERS)[number];
    if (!(URL_PLACEHOLDERS as readonly string[]).includes(url)) continue;
    parts.push({ kind: 'text', text: template.slice(last, match.index) });
    parts.push({ kind: 'link', label: match[1]!, url });
    last = match.index + match[0].length;
  }
  parts.push({ kind: 'text', text: template.slice(last) });
  return parts;
}

/**
 * Replaces {name} with its value, passing literal text through `literal`. An empty value also
 * takes the space before it, so "Hallo {customerName}," reads "Hallo," when Stripe has no name.
 */
function fillPlaceholders(text: string, value: (name: Placeholder) => string, literal: (s: string) => string = (s) => s): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(/\{([A-Za-z]+)\}/g)) {
    const name = match[1] as Placeholder;
    let before = text.slice(last, match.index);
    const known = isPlaceholder(name);
    const filled = known ? value(name) : match[0];
    if (known && filled === '') before = before.replace(/ +$/, '');
    out += literal(before) + (known ? filled : literal(filled));
    last = match.index + match[0].length;
  }
  return out + literal(text.slice(last));
}

const PLACEHOLDER_NAMES: ReadonlySet<string> = new Set(PLACEHOLDERS);
function isPlaceholder(name: string): name is Placeholder {
  return PLACEHOLDER_NAMES.has(name);
}

/** The first name, without control characters (it goes into a greeting, and maybe a subject). */
function firstName(name: string | undefined): string | undefined {
  const first = name?.replace(/[\p{Cc}\p{Cf}]/gu, ' ').trim().split(/\s+/)[0];
  return first ? first.slice(0, 60) : undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
