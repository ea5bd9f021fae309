// The ports behind the one-click payment links: the links themselves and the rate limit on using them.
import type { DunningCase } from './case.ts';

/** Counts uses of something (a link) in fixed windows, so one caller cannot hammer a costly path. */
/**
 * A second count kept in the same window as the key's, taken with it or not at all: an endpoint's
 * requests inside the account's (the request budget), so a place is never taken in one and lost
 * in the other.
 */
export interface SubCounter {
  name: string;
  limit: number;
}

export interface RateLimiter {
  /**
   * Takes one use of `key` in the window that holds `now`: true if fewer than `limit` were taken
   * there before this one, false (and nothing counted) once the window is full. With `within`, the
   * sub-counter of that window is taken in the same step: both have room and both count, or neither.
   */
  take(key: string, limit: number, windowMs: number, now: Date, within?: SubCounter): Promise<boolean>;
}

/** Makes the one-click "update payment details" links: our own short link, never Stripe's. */
export interface PaymentLinks {
  /** A case's link, for its notices: it lives until the case's end (at most 30 days). */
  updatePaymentUrl(dunningCase: Pick<DunningCase, 'customerId' | 'invoiceId' | 'terminatesAt'>): Promise<string>;
  /**
   * A pre-dunning heads-up's link, before any case exists: bound to the customer and the renewal
   * (`renewsAt`, unix seconds, Stripe's clock) it warns about, and it lives until that renewal.
   */
  headsUpUrl(renewal: { customerId: string; subscriptionId: string; renewsAt: number }): Promise<string>;
}
