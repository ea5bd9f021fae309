// The dunning policy: which stages run on which day, what each notice says, and what happens
// when every retry has failed. The state machine is generated from it (shared/workflow/definition.ts).
import * as z from '../zod.ts';
import { AccessSchema, type AccessPolicy } from './access.ts';
import { CATALOG_LANGUAGES, languageOf, MESSAGE_KINDS } from './messages.ts';
import { isTimeZone } from './time-zone.ts';
import { RetryTimingSchema } from './retry-timing.ts';

/** Placeholders a notice may use; anything else in braces is rejected at load time. */
export const PLACEHOLDERS = [
  'customerName',
  'productName',
  'amount',
  'invoiceNumber',
  'failedOn',
  'terminatesOn',
  'updatePaymentUrl',
  'myAccountUrl',
  'invoiceUrl',
  'supportEmail',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** The placeholders that hold a URL: the only ones a `[label]({…})` link may point to. */
export const URL_PLACEHOLDERS = ['updatePaymentUrl', 'myAccountUrl', 'invoiceUrl'] as const satisfies readonly Placeholder[];

const PLACEHOLDER_PATTERN = /\{([^{}]*)\}/g;
/** `[label]({placeholder})`: a link in HTML, "label (url)" in plain text. */
export const LINK_PATTERN = /\[([^\[\]]+)\]\(\{([A-Za-z]+)\}\)/g;

/** Why a template cannot be filled, or an empty list. Shared by the policy schema and the catalog test. */
export function templateProblems(text: string): string[] {
  const problems: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER_PATTERN)) {
    const name = match[1] ?? '';
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      const hint = name === 'brandName' ? ' ({brandName} is now {productName})' : '';
      problems.push(`unknown placeholder {${name}}${hint}; use one of ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`);
    }
  }
  for (const match of text.matchAll(LINK_PATTERN)) {
    const name = match[2] ?? '';
    if ((PLACEHOLDERS as readonly string[]).includes(name) && !(URL_PLACEHOLDERS as readonly string[]).includes(name)) {
      problems.push(`the link [${match[1]}]({${name}}) must point to ${URL_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`);
    }
  }
  return problems;
}

const templateText = z.string().check(
  z.minLength(1),
  z.superRefine((text, ctx) => {
    for (const message of templateProblems(text)) ctx.addIssue({ code: 'custom', message });
  }),
);

/** What one notice says, in email and in the My Account banner, written into the policy itself. */
export const NoticeCopySchema = z.strictObject({
  subject: templateText,
  heading: templateText,
  /** Paragraphs of the email body. */
  body: z.array(templateText).check(z.minLength(1)),
  /** Label of the call-to-action button. Omit for no button. */
  action: z.optional(templateText),
  /**
   * Where the button leads: the card-update page ({updatePaymentUrl}), or the invoice's hosted page
   * ({invoiceUrl}), where a customer can complete 3-D Secure. @default "update_payment"
   */
  link: z._default(z.enum(['update_payment', 'invoice']), 'update_payment'),
  /** Short text of the in-app banner. Omit when the notice should clear the banner instead. */
  banner: z.optional(templateText),
});
export type NoticeCopy = z.infer<typeof NoticeCopySchema>;

/** A notice whose copy comes from the locale catalogs (shared/notices/locales/), in the customer's language. */
export const MessageRefSchema = z.strictObject({
  message: z.enum(MESSAGE_KINDS, {
    error: (issue) => `unknown message ${JSON.stringify(issue.input)}; use one of ${MESSAGE_KINDS.map((k) => `"${k}"`).join(', ')}, or write the copy inline`,
  }),
});
export type MessageRef = z.infer<typeof MessageRefSchema>;

/** The policy's own copy in several languages, keyed by BCP 47 locale ("en", "fr", "de-CH"). */
export const LocalisedCopySchema = z.strictObject({
  locales: z.record(z.string(), NoticeCopySchema).check(
    z.superRefine((copies, ctx) => {
      if (Object.keys(copies).length === 0) ctx.addIssue({ code: 'custom', message: 'give at least one locale\'s copy, e.g. "en"' });
      for (const tag of Object.keys(copies)) {
        if (!isLocale(tag)) ctx.addIssue({ code: 'custom', path: [tag], message: 'must be a BCP 47 locale such as "fr" or "de-AT"' });
      }
    }),
  ),
});
export type LocalisedCopy = z.infer<typeof LocalisedCopySchema>;

/** A notice: a catalog message, the policy's own copy, or its own copy per locale. */
export type NoticeSpec = MessageRef | NoticeCopy | LocalisedCopy;
type NoticeSpecInput = z.input<typeof MessageRefSchema> | z.input<typeof NoticeCopySchema> | z.input<typeof LocalisedCopySchema>;

/**
 * Picks the form by its key, then validates that one form only, so a mistake is reported against
 * the form the author meant (a union would report all three).
 */
export const NoticeSchema = z.pipe(
  z.unknown(),
  z.transform((value, ctx) => {
    const keys = value && typeof value === 'object' ? Object.keys(value) : [];
    const schema = keys.includes('message') ? MessageRefSchema : keys.includes('locales') ? LocalisedCopySchema : NoticeCopySchema;
    const result = schema.safeParse(value);
    if (result.success) return result.data as NoticeSpec;
    for (const issue of result.error.issues) ctx.issues.push({ ...issue, input: value } as (typeof ctx.issues)[number]);
    return z.NEVER;
  }),
) as unknown as z.ZodMiniType<NoticeSpec, NoticeSpecInput>;

/**
 * The product's brand as notices show it. Sender and Reply-To are deployment settings, not policy:
 * they are tied to an SES identity (CDK `email` props, DUNNING_SENDER / DUNNING_REPLY_TO).
 */
export const BrandSchema = z.strictObject({
  /** The product's name, shown in every notice as {productName}. */
  productName: z.string().check(z.trim(), z.minLength(1)),
  /** An http(s) image shown at the top of every email, with the product name as its alt text. Omit for a text header. */
  logoUrl: z.optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL of an image' })),
  /** Shown in every email's footer as a mailto link, and as {supportEmail}. */
  supportEmail: z.email({ error: 'must be an email address such as "support@example.com"' }),
  /** The customer's "My Account" page: linked from every notice; the card update returns here. */
  myAccountUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  /** The button and accent colour, as #rrggbb. The button text is black or white, whichever reads better. */
  colour: z._default(z.string().check(z.regex(/^#[0-9a-fA-F]{6}$/, 'must be a hex colour such as "#0a5cff"')), '#0a5cff'),
});
export type Brand = z.infer<typeof BrandSchema>;

/**
 * A stage id is also the Step Functions state name, an override key in the local engine and an alarm
 * dimension, so it is deliberately plain: PascalCase letters and digits.
 */
export const StageIdSchema = z
  .string()
  .check(z.regex(/^[A-Z][A-Za-z0-9]{0,39}$/, 'must be PascalCase letters and digits, e.g. "Notice1" or "Retry2"'));

const RESERVED_STATE_NAMES = [
  'ActionRequired',
  'PreDunning',
  'CardUpdated',
  'RecoverCase',
  'Recovered',
  'Terminate',
  'Terminated',
  'CaseClosed',
  // No longer states of the definition, but executions started before redrive may still carry
  // them in their history: a stage of that name would read as something it is not.
  'FlagCase',
  'NeedsAttention',
  // The Choice a file of several policies starts with, and the claim of the alsoNotify emails.
  'ChoosePolicy',
  'AlsoNotify',
] as const;

const dayField = z.int().check(z.minimum(0), z.maximum(365));

export const NoticeStageSchema = z.strictObject({
  id: StageIdSchema,
  type: z.literal('notice'),
  /** Days after the payment failure. */
  day: dayField,
  notice: NoticeSchema,
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

/**
 * Pre-dunning: before a renewal that would fail because the card on file expires first, one
 * heads-up (email and banner) asks for a new card. Triggered by Stripe's `invoice.upcoming` (or the
 * legacy `customer.source.expiring`); cancelled by `payment_method.automatically_updated`.
 */
export const PreDunningSchema = z.strictObject({
  /** @default true */
  enabled: z._default(z.boolean(), true),
  /** @default the catalog's `card_expiring` message */
  notice: z._default(NoticeSchema, () => ({ message: 'card_expiring' }) as NoticeSpec),
});
export type PreDunning = z.infer<typeof PreDunningSchema>;

const PolicyObjectSchema = z
  .strictObject(
    {
    brand: BrandSchema,
    /**
     * The default locale (BCP 47): notices are written in it when the customer's preferred locale
     * has no catalog or copy, and dates and money are formatted in it then.
     */
    locale: z._default(z.string().check(z.minLength(2), z.refine(isLocale, 'must be a BCP 47 locale such as "en-GB"')), 'en-GB'),
    /**
     * The IANA time zone dates are shown in when the customer has none of their own (a valid
     * `time_zone` in the Stripe customer's metadata).
     */
    timeZone: z._default(z.string().check(z.refine((tz) => isTimeZone(tz), 'must be an IANA time zone such as "Europe/London"')), 'UTC'),
    /**
     * Who retries the charge. "workflow": our retry stages do, and Stripe's automatic retries should
     * be off (a retry stage never charges on a day Stripe has its own attempt scheduled). "stripe":
     * Stripe's automatic retries do; our retry stages stand down, and each failed Stripe attempt sends
     * the next notice at once (its policy day is the latest it goes).
     */
    retries: z._default(z.enum(['workflow', 'stripe']), 'workflow'),
    /**
     * When a `retries: "workflow"` retry may charge: the customer's business hours, paydays, back-off
     * and the card networks' caps (shared/policy/retry-timing.ts). Each knob has a default.
     */
    retryTiming: z._default(RetryTimingSchema, () => RetryTimingSchema.parse({})),
    stages: z.array(StageSchema).check(z.minLength(1)),
    end: z.strictObject({
      /** Days after the failure on which the subscription ends; shown as {terminatesOn}. */
      day: dayField,
      action: EndActionSchema,
      /** Also mark the failed invoice uncollectible in Stripe (it stops counting as owed). */
      markUncollectible: z._default(z.boolean(), false),
      notice: NoticeSchema,
    }),
    /** Sent once when the payment goes through, by our retry or any other way. */
    recovered: z.strictObject({ notice: NoticeSchema }),
    /** Sent once when the bank wants the customer to authenticate the payment (3-D Secure). */
    actionRequired: z.strictObject({ notice: NoticeSchema }),
    /** The heads-up before a renewal the card on file cannot pay. On, with the catalog's copy, unless set. */
    preDunning: z._default(PreDunningSchema, () => PreDunningSchema.parse({})),
    /**
     * What the customer may still use while in dunning (GET /customers/{id}/access): by default
     * `grace` from the failure until the end, `none` after it (shared/policy/access.ts).
     */
    access: z._default(AccessSchema, () => AccessSchema.parse({})),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? unknownFieldsMessage(issue.keys) : undefined) },
  )
  .check(z.superRefine((policy, ctx) => {
    const seen = new Set<string>();
    policy.stages.forEach((stage, index) => {
      if (seen.has(stage.id)) {
        ctx.addIssue({ code: 'custom', path: ['stages', index, 'id'], message: `duplicate stage id "${stage.id}"` });
      }
      seen.add(stage.id);
      if ((RESERVED_STATE_NAMES as readonly string[]).includes(stage.id) || stage.id.startsWith('WaitBefore') || stage.id.startsWith('AlsoNotify')) {
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
    checkNoticeLanguages(policy, ctx);
    checkAccessChanges(policy, ctx);
    const last = policy.stages[policy.stages.length - 1];
    if (last && policy.end.day < last.day) {
      ctx.addIssue({
        code: 'custom',
        path: ['end', 'day'],
        message: `the end (day ${policy.end.day}) cannot come before the last stage (day ${last.day})`,
      });
    }
  }));

/** Access changes with a notice (one of that day runs it), in day order, before the end. */
function checkAccessChanges(
  policy: { stages: Array<{ type: string; day: number; id: string }>; end: { day: number }; access: AccessPolicy },
  ctx: { addIssue(issue: { code: 'custom'; path: PropertyKey[]; message: string }): void },
): void {
  const noticeDays = [...new Set(policy.stages.filter((s) => s.type === 'notice').map((s) => s.day))];
  policy.access.changes.forEach((change, index) => {
    const path = ['access', 'changes', index, 'fromDay'];
    const before = policy.access.changes[index - 1];
    if (before && change.fromDay <= before.fromDay) {
      ctx.addIssue({ code: 'custom', path, message: `changes must be in day order: day ${change.fromDay} comes after day ${before.fromDay}` });
    } else if (!noticeDays.includes(change.fromDay)) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `day ${change.fromDay} has no notice: access changes as a notice runs, on day ${noticeDays.join(', ') || '(no notices)'}`,
      });
    }
  });
}

/** Top-level fields older policies had, and where they live now. */
const MOVED_FIELDS: Record<string, string> = {
  brandName: 'brand.productName',
  myAccountUrl: 'brand.myAccountUrl',
};

export const PolicySchema = PolicyObjectSchema;

function unknownFieldsMessage(keys: readonly string[]): string {
  const moved = keys.filter((k) => Object.hasOwn(MOVED_FIELDS, k)).map((k) => `"${k}" has moved: put it in "${MOVED_FIELDS[k]}"`);
  const unknown = keys.filter((k) => !Object.hasOwn(MOVED_FIELDS, k)).map((k) => `"${k}"`);
  return [...moved, ...(unknown.length ? [`unknown field ${unknown.join(', ')}`] : [])].join('; ');
}

export type Policy = z.infer<typeof PolicyObjectSchema>;
export type PolicyInput = z.input<typeof PolicyObjectSchema>;

/** Every notice in a policy, with the path the error messages should name. */
export function noticesOf(policy: Policy): Array<{ path: (string | number)[]; notice: NoticeSpec }> {
  return [
    ...policy.stages.flatMap((stage, index) => (stage.type === 'notice' ? [{ path: ['stages', index, 'notice'], notice: stage.notice }] : [])),
    { path: ['end', 'notice'], notice: policy.end.notice },
    { path: ['recovered', 'notice'], notice: policy.recovered.notice },
    { path: ['actionRequired', 'notice'], notice: policy.actionRequired.notice },
  ];
}

/** Every customer must be able to get every notice: in their language, or else the default one. */
function checkNoticeLanguages(policy: Policy, ctx: z.core.$RefinementCtx): void {
  const fallback = languageOf(policy.locale);
  for (const { path, notice } of noticesOf(policy)) {
    if ('message' in notice && !CATALOG_LANGUAGES.includes(fallback)) {
      ctx.addIssue({
        code: 'custom',
        path: ['locale'],
        message: `the catalogs have no "${fallback}" for ${path.join('.')}'s message "${notice.message}"; use one of ${CATALOG_LANGUAGES.map((l) => `"${l}"`).join(', ')}, or write that notice's copy inline`,
      });
      return;
    }
    if ('locales' in notice && !Object.keys(notice.locales).some((l) => languageOf(l) === fallback)) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'locales'],
        message: `needs a copy in the policy's default locale "${policy.locale}" (add a "${fallback}" entry), for customers whose language has none`,
      });
    }
  }
}

function isLocale(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}
