// The policy's `access` block: what a customer in dunning may still use of the product, from the
// failure until the case ends. The merchant's app asks GET /customers/{id}/access and gates on the
// answer (shared/dunning/access.ts holds the rules that read this block).
import * as z from '../zod.ts';

/**
 * - full: no restriction (no case, or the case ended well).
 * - grace: a payment failed and is being recovered; the customer keeps full use.
 * - limited: the merchant's reduced mode (read-only, say): the app decides what it means.
 * - none: no access; the subscription ended unpaid.
 */
export const AccessLevelSchema = z.enum(['full', 'grace', 'limited', 'none']);
export type AccessLevelSetting = z.infer<typeof AccessLevelSchema>;

/** One change while the case is open: from this day of the sequence, this level. */
export const AccessChangeSchema = z.strictObject({
  /**
   * Days after the failure. Access changes as the notice stage of that day runs (the customer is
   * told the same moment), so it must be the day of one of the policy's notices.
   */
  fromDay: z.int().check(z.minimum(1), z.maximum(365)),
  access: z.enum(['grace', 'limited', 'none']),
});
export type AccessChange = z.infer<typeof AccessChangeSchema>;

export const AccessSchema = z.strictObject({
  /**
   * From the failure. Never `none` or `limited` by default: a first failed charge is most often a
   * card that expired or a bank's caution, and the customer is still a customer. @default "grace"
   */
  onFailure: z._default(z.enum(['full', 'grace', 'limited']), 'grace'),
  /** Later changes while the case is open, in day order. @default none: `onFailure` until the end */
  changes: z._default(z.array(AccessChangeSchema), () => [] as AccessChange[]),
  /** Once the sequence ended unpaid (Terminate ran its end action). @default "none" */
  afterEnd: z._default(AccessLevelSchema, 'none'),
});
export type AccessPolicy = z.infer<typeof AccessSchema>;
