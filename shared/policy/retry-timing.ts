// The policy's knobs for when a `retries: "workflow"` retry may charge: the customer's business
// hours, their likely paydays, how far to back off, and the card networks' retry caps. The rules
// that read them are pure functions in shared/retries/; the README's "When a retry charges" cites
// the sources of every default.
import * as z from '../zod.ts';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const clockTime = z.string().check(z.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time such as "09:00"'));

/** The customer's local window a retry lands in. */
export const RetryWindowSchema = z
  .strictObject({
    /** @default "09:00" */
    start: z._default(clockTime, '09:00'),
    /** @default "18:00" (a retry is never planned in the window's last hour, so a late start still lands inside it) */
    end: z._default(clockTime, '18:00'),
    /** @default Monday to Friday */
    days: z._default(z.array(z.enum(WEEKDAYS)).check(z.minLength(1)), () => ['mon', 'tue', 'wed', 'thu', 'fri'] as Weekday[]),
  })
  .check(
    z.superRefine((window, ctx) => {
      if (minutesOf(window.end) - minutesOf(window.start) < 120) {
        ctx.addIssue({ code: 'custom', path: ['end'], message: `the window ${window.start}–${window.end} must be at least two hours long` });
      }
    }),
  );
export type RetryWindow = z.infer<typeof RetryWindowSchema>;

/** Where an `insufficient_funds` retry aims: the days money most likely arrives. */
export const PaydaysSchema = z.strictObject({
  /** Days of the month (1–31; a day the month lacks is its last day). @default [1, 15] */
  daysOfMonth: z._default(z.array(z.int().check(z.minimum(1), z.maximum(31))), () => [1, 15]),
  /** Also the month's last business day (by the window's days). @default true */
  lastBusinessDay: z._default(z.boolean(), true),
});
export type Paydays = z.infer<typeof PaydaysSchema>;

/** How long to wait after a `try_again_later` or a processing error before the card is tried again. */
export const BackoffSchema = z.strictObject({
  /** Hours after the first such decline. @default 24 */
  firstHours: z._default(z.int().check(z.minimum(1), z.maximum(240)), 24),
  /** Each further one in a row waits this many times longer. @default 2 */
  multiplier: z._default(z.number().check(z.minimum(1), z.maximum(10)), 2),
});
export type Backoff = z.infer<typeof BackoffSchema>;

/** At most `reattempts` charges of one card after its first decline, in any `days` days. */
export const RetryCapSchema = z.strictObject({
  reattempts: z.int().check(z.minimum(0), z.maximum(100)),
  days: z.int().check(z.minimum(1), z.maximum(365)),
});
export type RetryCap = z.infer<typeof RetryCapSchema>;

/**
 * Per card brand (`visa`, `mastercard`, …, and `default` for the rest). The defaults: Visa allows
 * 15 reattempts in 30 days after a decline it lets be retried (Visa Core Rules, the excessive
 * reattempts rule of its decline categories 2–4); Mastercard's Transaction Processing Excellence
 * program charges for more than 35 declines of one card in 30 days (and 10 in a day); we keep every
 * brand at Visa's 15 unless told otherwise.
 */
export const RetryCapsSchema = z.record(z.string().check(z.regex(/^[a-z_]+$/, 'must be a card brand as Stripe writes it, e.g. "visa"')), RetryCapSchema);
export type RetryCaps = z.infer<typeof RetryCapsSchema>;

export const DEFAULT_RETRY_CAPS: RetryCaps = {
  visa: { reattempts: 15, days: 30 },
  mastercard: { reattempts: 15, days: 30 },
  default: { reattempts: 15, days: 30 },
};

export const RetryTimingSchema = z.strictObject({
  window: z._default(RetryWindowSchema, () => RetryWindowSchema.parse({})),
  paydays: z._default(PaydaysSchema, () => PaydaysSchema.parse({})),
  backoff: z._default(BackoffSchema, () => BackoffSchema.parse({})),
  caps: z._default(RetryCapsSchema, () => DEFAULT_RETRY_CAPS),
});
export type RetryTiming = z.infer<typeof RetryTimingSchema>;
export type RetryTimingInput = z.input<typeof RetryTimingSchema>;

export function minutesOf(clock: string): number {
  const [h, m] = clock.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}
