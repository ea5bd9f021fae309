// The dunning policy: which stages run on which day, what each notice says, and what happens
// when every retry has failed. The state machine is generated from it (shared/workflow/definition.ts).
import { z } from 'zod';

/** Placeholders a notice may use; anything else in braces is rejected at load time. */
export const PLACEHOLDERS = [
  'customerName',
  'brandName',
  'amount',
  'invoiceNumber',
  'failedOn',
  'terminatesOn',
  'updatePaymentUrl',
  'myAccountUrl',
  'invoiceUrl',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const PLACEHOLDER_PATTERN = /\{([^{}]*)\}/g;

const templateText = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    for (const match of text.matchAll(PLACEHOLDER_PATTERN)) {
      const name = match[1] ?? '';
      if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown placeholder {${name}}; use one of ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
        });
      }
    }
  });

/** What one notice says, in email and in the My Account banner. */
export const NoticeCopySchema = z.strictObject({
  subject: templateText,
  heading: templateText,
  /** Paragraphs of the email body. */
  body: z.array(templateText).min(1),
  /** Label of the call-to-action button. Omit for no button. */
  action: templateText.optional(),
  /**
   * Where the button leads: the card-update page ({updatePaymentUrl}), or the invoice's hosted page
   * ({invoiceUrl}), where a customer can complete 3-D Secure. @default "update_payment"
   */
  link: z.enum(['update_payment', 'invoice']).default('update_payment'),
  /** Short text of the in-app banner. Omit when the notice should clear the banner instead. */
  banner: templateText.optional(),
});
export type NoticeCopy = z.infer<typeof NoticeCopySchema>;

/**
 * A stage id is also the Step Functions state name, an override key in the local engine and an alarm
 * dimension, so it is deliberately plain: PascalCase letters and digits.
 */
export const StageIdSchema = z
  .string()
  .regex(/^[A-Z][A-Za-z0-9]{0,39}$/, 'must be PascalCase letters and digits, e.g. "Notice1" or "Retry2"');

const RESERVED_STATE_NAMES = [
  'ActionRequired',
  'PreDunning',
  'CardUpdated',
  'RecoverCase',
  'Recovered',
  'Terminate',
  'Terminated',
  'CaseClosed',
  'FlagCase',
  'NeedsAttention',
] as const;

const dayField = z.number().int().min(0).max(365);

export const NoticeStageSchema = z.strictObject({
  id: StageIdSchema,
  type: z.literal('notice'),
  /** Days after the payment failure. */
  day: dayField,
  notice: NoticeCopySchema,
});

export const RetryStageSchema = z.strictObject({
  id: StageIdSchema,
  type: z.literal('retry'),
  day: dayField,
});

export const StageSchema = z.discriminatedUnion('type', [NoticeStageSchema, RetryStageSchema]);
export type NoticeStage = z.infer<typeof NoticeStageSchema>;
export type RetryStage = z.infer<typeof RetryStageSchema>;
export type Stage = z.infer<typeof StageSchema>;

/**
 * What happens to the subscription when every retry has failed:
 * - cancel_now: cancel it at once;
 * - cancel_at_period_end: let it run to the end of the period it is in, then cancel;
 * - pause_collection: keep it, but stop invoicing (new invoices stay drafts) until someone resumes it;
 * - leave_past_due / leave_unpaid: leave the subscription alone, for your own process or Stripe's
 *   subscription setting ("mark as unpaid") to decide. The two name which state you expect.
 */
export const EndActionSchema = z.enum(['cancel_now', 'cancel_at_period_end', 'pause_collection', 'leave_past_due', 'leave_unpaid']);
export type EndAction = z.infer<typeof EndActionSchema>;

/** The heads-up a customer gets when their card expires before the next renewal. */
export const DEFAULT_PRE_DUNNING_NOTICE = {
  subject: 'Your card expires before your next payment',
  heading: 'Your card is about to expire',
  body: [
    'Hi {customerName},',
    'The card we have on file for your {brandName} subscription expires before your next payment of {amount} is due.',
    'To keep your subscription running without interruption, please update your payment details via My Account ({myAccountUrl}) or by clicking update payment details below.',
  ],
  action: 'Update payment details',
  banner: 'Your card expires before your next payment of {amount}. Update your payment details to keep your subscription.',
} as const;

/**
 * Pre-dunning: before a renewal that would fail because the card on file expires first, one
 * heads-up (email and banner) asks for a new card. Triggered by Stripe's `invoice.upcoming` (or the
 * legacy `customer.source.expiring`); cancelled by `payment_method.automatically_updated`.
 */
export const PreDunningSchema = z.strictObject({
  /** @default true */
  enabled: z.boolean().default(true),
  notice: NoticeCopySchema.default(() => NoticeCopySchema.parse(DEFAULT_PRE_DUNNING_NOTICE)),
});
export type PreDunning = z.infer<typeof PreDunningSchema>;

export const PolicySchema = z
  .strictObject({
    /** Shown in notices as {brandName}. */
    brandName: z.string().min(1),
    /** The customer's "My Account" page; the update link returns here. */
    myAccountUrl: z.url(),
    /** BCP 47 locale used when Stripe does not know the customer's preferred locale. */
    locale: z.string().min(2).default('en-GB'),
    /** IANA time zone used to render dates to customers. */
    timeZone: z
      .string()
      .default('UTC')
      .refine((tz) => isTimeZone(tz), 'must be an IANA time zone such as "Europe/London"'),
    /**
     * Who retries the charge. "workflow": our retry stages do, and Stripe's automatic retries should
     * be off (a retry stage never charges on a day Stripe has its own attempt scheduled). "stripe":
     * Stripe's Smart Retries do; our retry stages stand down and the notices keep their schedule.
     */
    retries: z.enum(['workflow', 'stripe']).default('workflow'),
    stages: z.array(StageSchema).min(1),
    end: z.strictObject({
      /** Days after the failure on which the subscription ends; shown as {terminatesOn}. */
      day: dayField,
      action: EndActionSchema,
      /** Also mark the failed invoice uncollectible in Stripe (it stops counting as owed). */
      markUncollectible: z.boolean().default(false),
      notice: NoticeCopySchema,
    }),
    /** Sent once when the payment goes through, by our retry or any other way. */
    recovered: z.strictObject({ notice: NoticeCopySchema }),
    /** Sent once when the bank wants the customer to authenticate the payment (3-D Secure). */
    actionRequired: z.strictObject({ notice: NoticeCopySchema }),
    /** The heads-up before a renewal the card on file cannot pay. On, with default copy, unless set. */
    preDunning: PreDunningSchema.default(() => PreDunningSchema.parse({})),
  })
  .superRefine((policy, ctx) => {
    const seen = new Set<string>();
    policy.stages.forEach((stage, index) => {
      if (seen.has(stage.id)) {
        ctx.addIssue({ code: 'custom', path: ['stages', index, 'id'], message: `duplicate stage id "${stage.id}"` });
      }
      seen.add(stage.id);
      if ((RESERVED_STATE_NAMES as readonly string[]).includes(stage.id) || stage.id.startsWith('WaitBefore')) {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', index, 'id'],
          message: `"${stage.id}" is reserved for the generated state machine`,
        });
      }
      const previous = policy.stages[index - 1];
      if (previous && stage.day < previous.day) {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', index, 'day'],
          message: `stages must be in day order: day ${stage.day} comes after day ${previous.day}`,
        });
      }
    });
    if (!policy.stages.some((s) => s.type === 'retry')) {
      ctx.addIssue({ code: 'custom', path: ['stages'], message: 'needs at least one retry stage' });
    }
    const last = policy.stages[policy.stages.length - 1];
    if (last && policy.end.day < last.day) {
      ctx.addIssue({
        code: 'custom',
        path: ['end', 'day'],
        message: `the end (day ${policy.end.day}) cannot come before the last stage (day ${last.day})`,
      });
    }
  });

export type Policy = z.infer<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
