// Unix-second clocks: real time, or a test clock's frozen time for objects attached to one,
// plus Stripe's calendar arithmetic for billing periods (month ends clamp to the anchor day).

export type Interval = 'day' | 'week' | 'month' | 'year';

export function realNow(): number {
  return Math.floor(Date.now() / 1000);
}

function addMonthsClamped(anchor: number, months: number): number {
  const d = new Date(anchor * 1000);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + months;
  const targetYear = year + Math.floor(month / 12);
  const targetMonth = ((month % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(targetYear, targetMonth + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return (
    Date.UTC(targetYear, targetMonth, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000
  );
}

/** The anchor moved forward by `n` intervals of `count` units. */
export function anchorPlus(anchor: number, interval: Interval, count: number, n: number): number {
  const units = count * n;
  switch (interval) {
    case 'day':
      return anchor + units * 86_400;
    case 'week':
      return anchor + units * 7 * 86_400;
    case 'month':
      return addMonthsClamped(anchor, units);
    case 'year':
      return addMonthsClamped(anchor, units * 12);
  }
}

/** First period boundary after `after`, counted from the billing cycle anchor. */
export function nextBoundary(anchor: number, interval: Interval, count: number, after: number): number {
  for (let n = 1; ; n++) {
    const t = anchorPlus(anchor, interval, count, n);
    if (t > after) return t;
  }
}
