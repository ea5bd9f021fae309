// Money and dates as a customer reads them, through Intl in the customer's locale and time zone.
import type { Money } from './case.ts';

/**
 * Currencies whose Stripe amounts are whole units (https://docs.stripe.com/currencies#zero-decimal).
 * Intl is not the authority here: it has ISK and HUF at 0 decimals, but Stripe amounts in those are
 * still in hundredths, so "how many decimals" comes from Stripe's list, and only the display from Intl.
 */
const STRIPE_ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
/** Stripe's three-decimal currencies (amounts in thousandths). */
const STRIPE_THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** How many decimal places a Stripe amount in this currency has. */
export function stripeExponent(currency: string): number {
  const code = currency.toLowerCase();
  if (STRIPE_ZERO_DECIMAL.has(code)) return 0;
  if (STRIPE_THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** Formats an amount in the currency's smallest unit, e.g. 1500 gbp → "£15.00", 1500 jpy → "¥1,500". */
export function formatMoney(money: Money, locale: string): string {
  const currency = money.currency.toUpperCase();
  const format = cached(moneyFormats, `${locale}|${currency}`, () => new Intl.NumberFormat(safeLocale(locale), { style: 'currency', currency }));
  return format.format(money.amount / 10 ** stripeExponent(money.currency));
}

/** A calendar date such as "7 December 2026" (en-GB) or "December 7, 2026" (en-US). */
export function formatDate(iso: string, locale: string, timeZone: string): string {
  const format = cached(dateFormats, `${locale}|${timeZone}`, () => new Intl.DateTimeFormat(safeLocale(locale), { dateStyle: 'long', timeZone }));
  return format.format(new Date(iso));
}

/**
 * Intl formatters are costly to build and immutable once built: one per locale, currency or time
 * zone per container. Bounded, since the locale and time zone come from customers' Stripe data.
 */
const FORMATS_KEPT = 500;
const moneyFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function cached<T>(formats: Map<string, T>, key: string, build: () => T): T {
  let format = formats.get(key);
  if (format === undefined) {
    format = build();
    if (formats.size >= FORMATS_KEPT) formats.delete(formats.keys().next().value!);
    formats.set(key, format);
  }
  return format;
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
