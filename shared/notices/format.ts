// Money and dates as a customer reads them, through Intl in the customer's locale and time zone.
import type { Money } from '../domain/case.ts';

/** Formats an amount in the currency's smallest unit, e.g. 1500 gbp → "£15.00", 1500 jpy → "¥1,500". */
export function formatMoney(money: Money, locale: string): string {
  const currency = money.currency.toUpperCase();
  const format = new Intl.NumberFormat(safeLocale(locale), { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(money.amount / 10 ** digits);
}

/** A calendar date such as "7 December 2026" (en-GB) or "December 7, 2026" (en-US). */
export function formatDate(iso: string, locale: string, timeZone: string): string {
  return new Intl.DateTimeFormat(safeLocale(locale), { dateStyle: 'long', timeZone }).format(new Date(iso));
}

/** Adds whole policy days to an instant. Days are 24-hour periods counted from the failure. */
export function addDays(iso: string, days: number): string {
  return new Date(new Date(iso).getTime() + days * 86_400_000).toISOString();
}

/** Stripe's preferred locales are BCP 47-ish ("en", "fr-FR"); fall back when Intl does not know one. */
export function safeLocale(locale: string | undefined, fallback = 'en-GB'): string {
  if (!locale) return fallback;
  try {
    return Intl.getCanonicalLocales(locale)[0] ?? fallback;
  } catch {
    return fallback;
  }
}
