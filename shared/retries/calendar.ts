// The customer's calendar: their time zone(s), their business hours, their paydays. Pure, on Intl:
// the zone database and the country → zone table are the runtime's (ICU's), not ours.
import type { Paydays, RetryWindow, Weekday } from '../policy/retry-timing.ts';
import { minutesOf, WEEKDAYS } from '../policy/retry-timing.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Retries are planned on a quarter-hour grid. */
export const GRID_MS = 15 * MINUTE_MS;
/** A retry is never planned in the window's last hour: a start that runs late still lands inside it. */
export const END_MARGIN_MINUTES = 60;

/**
 * The zones a retry's window must hold in, and where the choice came from. One zone from the
 * customer's `metadata.time_zone`; else every zone of their address country (a retry lands when it
 * is business hours in all of them); else the policy's default.
 */
export interface CustomerZones {
  zones: string[];
  /** The zone times are shown in: the only one, or the policy's default if it is one of the country's, else the country's middle one by offset. */
  primary: string;
  source: 'customer' | 'country' | 'policy';
  /** "Europe/Paris", or "US: 29 time zones" */
  label: string;
}

export function customerZones(options: { timeZone?: string; country?: string; policyZone: string; window: RetryWindow }): CustomerZones {
  if (options.timeZone) return { zones: [options.timeZone], primary: options.timeZone, source: 'customer', label: options.timeZone };
  const country = options.country?.trim().toUpperCase();
  const zones = country && /^[A-Z]{2}$/.test(country) ? zonesOfCountry(country) : [];
  if (zones.length === 1) return { zones, primary: zones[0]!, source: 'country', label: `${zones[0]} (${country})` };
  if (zones.length > 1) {
    const primary = zones.includes(options.policyZone) ? options.policyZone : middleZone(zones);
    // A country wider than the window (Russia's eleven hours) has no common business hours: one
    // zone (the policy's, else its middle one) rather than no retry at all.
    if (offsetSpreadMinutes(zones) <= minutesOf(options.window.end) - minutesOf(options.window.start) - END_MARGIN_MINUTES - 60) {
      return { zones, primary, source: 'country', label: `${country}: ${zones.length} time zones` };
    }
    return { zones: [primary], primary, source: 'country', label: `${primary} (${country})` };
  }
  return { zones: [options.policyZone], primary: options.policyZone, source: 'policy', label: options.policyZone };
}

/** The IANA zones in use in a country, from ICU (`Intl.Locale#timeZones`, V8 ≥ 9.9). */
export function zonesOfCountry(country: string): string[] {
  try {
    const locale = new Intl.Locale(`und-${country}`) as Intl.Locale & { timeZones?: string[]; getTimeZones?: () => string[] };
    return (locale.getTimeZones?.() ?? locale.timeZones ?? []).filter((z) => !z.startsWith('Antarctica/'));
  } catch {
    return [];
  }
}

/** The zone whose offset is the median of the country's (America/Chicago for the US): shown, and the fallback. */
function middleZone(zones: string[]): string {
  const now = new Date();
  const sorted = [...zones].sort((a, b) => offsetMinutes(now, a) - offsetMinutes(now, b));
  return sorted[Math.floor(sorted.length / 2)]!;
}

function offsetSpreadMinutes(zones: string[]): number {
  const now = new Date();
  const offsets = zones.map((zone) => offsetMinutes(now, zone));
  return Math.max(...offsets) - Math.min(...offsets);
}

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

export function localParts(at: Date, zone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(at)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: (parts.weekday ?? 'Mon').slice(0, 3).toLowerCase() as Weekday,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** The zone's offset from UTC at `at`, in minutes (+60 for Paris in winter). */
export function offsetMinutes(at: Date, zone: string): number {
  const p = localParts(at, zone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, Math.floor(p.minutes / 60), p.minutes % 60);
  return Math.round((asUtc - Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS) / MINUTE_MS);
}

/** `2026-12-15T09:30+01:00`: the instant as the zone's wall clock reads it. */
export function formatLocal(at: Date, zone: string): string {
  const p = localParts(at, zone);
  const offset = offsetMinutes(at, zone);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(Math.floor(p.minutes / 60))}:${two(p.minutes % 60)}${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

/** Inside the window in every zone: a day of the window, from its start to its end. */
export function inWindow(at: Date, window: RetryWindow, zones: readonly string[], endMarginMinutes = 0): boolean {
  const start = minutesOf(window.start);
  const end = minutesOf(window.end) - endMarginMinutes;
  return zones.every((zone) => {
    const p = localParts(at, zone);
    return window.days.includes(p.weekday) && p.minutes >= start && p.minutes <= end;
  });
}

/** Where a retry may be planned: inside the window, short of its last hour. */
export function plannable(at: Date, window: RetryWindow, zones: readonly string[]): boolean {
  return inWindow(at, window, zones, END_MARGIN_MINUTES);
}

function ceilToGrid(ms: number): number {
  return Math.ceil(ms / GRID_MS) * GRID_MS;
}

/** The first plannable quarter hour in [from, until], if any. */
export function firstPlannable(from: Date, until: Date, window: RetryWindow, zones: readonly string[]): Date | undefined {
  for (let t = ceilToGrid(from.getTime()); t <= until.getTime(); t += GRID_MS) {
    if (plannable(new Date(t), window, zones)) return new Date(t);
  }
  return undefined;
}

/** The last plannable quarter hour in [from, until], if any. */
export function lastPlannable(from: Date, until: Date, window: RetryWindow, zones: readonly string[]): Date | undefined {
  for (let t = Math.floor(until.getTime() / GRID_MS) * GRID_MS; t >= from.getTime(); t -= GRID_MS) {
    if (plannable(new Date(t), window, zones)) return new Date(t);
  }
  return undefined;
}

/**
 * Why a local date is a likely payday, or undefined: one of the policy's days of the month (a day
 * the month lacks counts as its last day), or the month's last business day.
 */
export function paydayOf(date: { year: number; month: number; day: number }, paydays: Paydays, window: RetryWindow): string | undefined {
  const last = daysInMonth(date.year, date.month);
  const named = paydays.daysOfMonth.find((d) => Math.min(d, last) === date.day);
  if (named !== undefined) return named >= last ? 'the last of the month' : ordinal(named);
  if (paydays.lastBusinessDay && date.day === lastBusinessDay(date.year, date.month, window.days)) return 'the last business day';
  return undefined;
}

/**
 * The first plannable moment in [from, until] on a local payday (in `zone`), with why it is one.
 * Looks at each local date in turn.
 */
export function firstPaydayMoment(
  from: Date,
  until: Date,
  paydays: Paydays,
  window: RetryWindow,
  zones: readonly string[],
  zone: string,
): { at: Date; payday: string } | undefined {
  for (let t = from.getTime(); t <= until.getTime() + DAY_MS; t += DAY_MS / 2) {
    const p = localParts(new Date(t), zone);
    const why = paydayOf(p, paydays, window);
    if (!why) continue;
    const dayStart = new Date(Math.max(from.getTime(), t - p.minutes * MINUTE_MS));
    const dayEnd = new Date(Math.min(until.getTime(), t + (24 * 60 - p.minutes) * MINUTE_MS - 1));
    const at = firstPlannable(dayStart, dayEnd, window, zones);
    if (at) return { at, payday: why };
  }
  return undefined;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function lastBusinessDay(year: number, month: number, days: readonly Weekday[]): number {
  for (let day = daysInMonth(year, month); day > 0; day -= 1) {
    const weekday = WEEKDAYS[(new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7]!;
    if (days.includes(weekday)) return day;
  }
  return daysInMonth(year, month);
}

function ordinal(n: number): string {
  const suffix = n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th';
  return `the ${n}${suffix}`;
}

export { DAY_MS, HOUR_MS };
