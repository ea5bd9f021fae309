// The policy file: one policy, or several named policies with the segments that choose between them
// (by Stripe price, product, billing interval or metadata) and the internal addresses told about large
// failed invoices. Validation and the pure matching live here; the router calls choosePolicy.
import * as z from '../zod.ts';
import { PolicySchema, type Policy, type PolicyInput } from './schema.ts';

/** The policy a case gets when no segment matches, and the name a single-policy file's policy has. */
export const DEFAULT_POLICY_NAME = 'default';

/**
 * A policy name prefixes its state names (`annual.Notice1`), which Step Functions caps at 80
 * characters: so letters, digits, `_` and `-`, up to 24 of them (a stage id is up to 40, plus
 * `WaitBefore`).
 */
export const PolicyNameSchema = z
  .string()
  .check(z.regex(/^[A-Za-z][A-Za-z0-9_-]{0,23}$/, 'must start with a letter and hold only letters, digits, "_" and "-" (at most 24), e.g. "annual"'));

/** Stripe's recurring intervals. */
export const INTERVALS = ['day', 'week', 'month', 'year'] as const;
export type Interval = (typeof INTERVALS)[number];

const nonEmptyIds = (prefix: string, example: string) =>
  z
    .array(z.string().check(z.startsWith(prefix, `must be a Stripe id starting "${prefix}", e.g. "${example}"`)))
    .check(z.minLength(1, `list at least one id, e.g. ["${example}"], or leave the field out`));

/**
 * When a segment applies. Every condition given must hold (and within a list, any one id will do).
 * A `when` with no condition would match everyone and make the segments after it dead: rejected.
 */
export const SegmentWhenSchema = z
  .strictObject(
    {
      /** Any of the failed invoice's lines is on one of these prices. */
      priceIds: z.optional(nonEmptyIds('price_', 'price_1Annual')),
      /** Any of its lines is for one of these products. */
      productIds: z.optional(nonEmptyIds('prod_', 'prod_1Pro')),
      /** Any of its lines is on a price that recurs at this interval. */
      interval: z.optional(
        z.enum(INTERVALS, { error: (issue) => `unknown interval ${JSON.stringify(issue.input)}; use one of ${INTERVALS.map((i) => `"${i}"`).join(', ')}` }),
      ),
      /** Every key has this value in the subscription's metadata (or, failing that, its price's). */
      metadata: z.optional(
        z
          .record(z.string().check(z.minLength(1)), z.string())
          .check(z.refine((m) => Object.keys(m).length > 0, 'give at least one key and value, or leave the field out')),
      ),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown condition ${issue.keys.map((k) => `"${k}"`).join(', ')}; use "priceIds", "productIds", "interval" or "metadata"` : undefined) },
  )
  .check(
    z.refine((when) => Object.values(when).some((v) => v !== undefined), {
      // An unknown condition has its own message; "needs a condition" on top would only confuse.
      when: (payload) => payload.issues.length === 0,
      message: 'a "when" needs at least one condition ("priceIds", "productIds", "interval" or "metadata"); for everyone else, rely on "default"',
    }),
  );
export type SegmentWhen = z.infer<typeof SegmentWhenSchema>;

export const SegmentSchema = z.strictObject({
  when: SegmentWhenSchema,
  /** The name of a policy in `policies`. */
  policy: z.string(),
});
export type Segment = z.infer<typeof SegmentSchema>;

/**
 * Checks a record's keys with `key` and reports each bad one at its own path: zod's record would say
 * only "Invalid key in record".
 */
function checkKeys(key: z.ZodMiniType<string>) {
  return z.superRefine((record: Record<string, unknown>, ctx) => {
    for (const name of Object.keys(record)) {
      const result = key.safeParse(name);
      if (!result.success) ctx.addIssue({ code: 'custom', path: [name], message: result.error.issues[0]?.message ?? 'invalid name' });
    }
  });
}

/** Amounts in the currency's smallest unit, keyed by lower-case ISO 4217 code. */
const thresholdSchema = z
  .record(
    z.string(),
    z.int('must be a whole number in the currency\'s smallest unit (pence, cents): 100000 is £1,000.00').check(z.minimum(0)),
  )
  .check(
    checkKeys(z.string().check(z.regex(/^[a-z]{3}$/, 'must be a lower-case ISO 4217 currency code such as "gbp"'))),
    z.refine((m) => Object.keys(m).length > 0, 'give at least one currency, e.g. { "gbp": 100000 } for £1,000.00'),
  );

export const AlsoNotifySchema = z.strictObject({
  when: z.strictObject({
    /** The case's amount is at least this, in its own currency; a currency not listed never matches. */
    amountAtLeast: thresholdSchema,
  }),
  /** An internal address (finance, account management). Never a customer's. */
  email: z.email({ error: 'must be an email address such as "finance@example.com"' }),
});
export type AlsoNotify = z.infer<typeof AlsoNotifySchema>;

const PolicySetObjectSchema = z
  .strictObject(
    {
      policies: z.record(z.string(), PolicySchema).check(
        checkKeys(PolicyNameSchema),
        z.refine((p) => Object.hasOwn(p, DEFAULT_POLICY_NAME), {
          message: `needs a policy named "${DEFAULT_POLICY_NAME}": it applies when no segment matches`,
        }),
      ),
      segments: z._default(z.array(SegmentSchema), []),
      alsoNotify: z._default(z.array(AlsoNotifySchema), []),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; a policy file with "policies" holds only "policies", "segments" and "alsoNotify"` : undefined) },
  )
  .check(z.superRefine((set, ctx) => {
    const names = Object.keys(set.policies);
    set.segments.forEach((segment, index) => {
      if (!names.includes(segment.policy)) {
        ctx.addIssue({
          code: 'custom',
          path: ['segments', index, 'policy'],
          message: `no policy named ${JSON.stringify(segment.policy)}; use one of ${names.map((n) => `"${n}"`).join(', ')}`,
        });
      }
    });
  }));

/** The validated policy file: named policies (always with `default`), segments, internal notices. */
export type PolicySet = z.infer<typeof PolicySetObjectSchema>;
export type PolicySetInput = z.input<typeof PolicySetObjectSchema>;

/**
 * Either form of the file. A file without `policies` is one policy, today's form, and means
 * `{ "policies": { "default": <it> } }`; its errors keep naming its own fields.
 */
export const PolicySetSchema = z.pipe(
  z.unknown(),
  z.transform((value, ctx) => {
    const isSet = value !== null && typeof value === 'object' && Object.hasOwn(value, 'policies');
    const result = isSet ? PolicySetObjectSchema.safeParse(value) : PolicySchema.safeParse(value);
    if (!result.success) {
      for (const issue of result.error.issues) ctx.issues.push({ ...issue, input: value } as (typeof ctx.issues)[number]);
      return z.NEVER;
    }
    return isSet ? (result.data as PolicySet) : singlePolicySet(result.data as Policy);
  }),
) as unknown as z.ZodMiniType<PolicySet, PolicySetInput | PolicyInput>;

export function singlePolicySet(policy: Policy): PolicySet {
  return { policies: { [DEFAULT_POLICY_NAME]: policy }, segments: [], alsoNotify: [] };
}

/** The policy names, `default` first, then in file order: the order their states are generated in. */
export function policyNames(set: PolicySet): string[] {
  return [DEFAULT_POLICY_NAME, ...Object.keys(set.policies).filter((n) => n !== DEFAULT_POLICY_NAME)];
}

/** What the router knows of the failed invoice's plan when it opens a case. */
export interface InvoicePlan {
  priceIds: string[];
  productIds: string[];
  /** The recurring intervals of the lines' prices ("month", "year"…). */
  intervals: string[];
  /** The subscription's metadata. */
  subscriptionMetadata: Record<string, string>;
  /** The metadata of the lines' prices, merged (first line first). */
  priceMetadata: Record<string, string>;
}

/** The first segment whose every condition holds, else `default`. Pure. */
export function choosePolicy(set: PolicySet, plan: InvoicePlan): string {
  return set.segments.find((segment) => matches(segment.when, plan))?.policy ?? DEFAULT_POLICY_NAME;
}

export function matches(when: SegmentWhen, plan: InvoicePlan): boolean {
  if (when.priceIds && !when.priceIds.some((id) => plan.priceIds.includes(id))) return false;
  if (when.productIds && !when.productIds.some((id) => plan.productIds.includes(id))) return false;
  if (when.interval && !plan.intervals.includes(when.interval)) return false;
  if (when.metadata) {
    for (const [key, value] of Object.entries(when.metadata)) {
      // The subscription's value decides when it has the key; the price's only when it has not.
      const actual = Object.hasOwn(plan.subscriptionMetadata, key) ? plan.subscriptionMetadata[key] : plan.priceMetadata[key];
      if (actual !== value) return false;
    }
  }
  return true;
}

/** The alsoNotify rules a case of this amount triggers, with their index (their claim). Pure. */
export function alsoNotifyFor(set: PolicySet, amount: { amount: number; currency: string }): Array<{ index: number; rule: AlsoNotify }> {
  return set.alsoNotify.flatMap((rule, index) => {
    const threshold = rule.when.amountAtLeast[amount.currency.toLowerCase()];
    return threshold !== undefined && amount.amount >= threshold ? [{ index, rule }] : [];
  });
}

/** Whether the set needs the invoice's plan at all: only segments do. */
export function hasSegments(set: PolicySet): boolean {
  return set.segments.length > 0;
}

/** The longest policy's end day: the state machine's timeout and the local runtime's waits cover it. */
export function longestEndDay(set: PolicySet): number {
  return Math.max(...Object.values(set.policies).map((p) => p.end.day));
}
