import { describe, expect, it } from 'vitest';
import { PolicyError } from '#shared/policy/errors.ts';
import { parsePolicy, parsePolicySet } from '#shared/policy/load.ts';
import { alsoNotifyFor, choosePolicy, type InvoicePlan } from '#shared/policy/segments.ts';
import { policyOf } from '#shared/dunning/deps.ts';
import { annualPolicyFile, defaultPolicy } from '../fixtures/policies.ts';

const plan = (overrides: Partial<InvoicePlan> = {}): InvoicePlan => ({
  priceIds: ['price_monthly'],
  productIds: ['prod_pro'],
  intervals: ['month'],
  subscriptionMetadata: {},
  priceMetadata: {},
  ...overrides,
});

function errorOf(input: unknown): PolicyError {
  try {
    parsePolicySet(input, 'policy.json');
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected the policy file to be rejected');
}

describe('parsePolicySet', () => {
  it('reads a file that is one policy as a set with that policy as default, and nothing else', () => {
    const set = parsePolicySet(structuredClone(defaultPolicy()));

    expect(Object.keys(set.policies)).toEqual(['default']);
    expect(set.policies.default).toEqual(defaultPolicy());
    expect(set).toMatchObject({ segments: [], alsoNotify: [] });
  });

  it('keeps naming the fields of a single-policy file as before', () => {
    const input = structuredClone(defaultPolicy()) as Record<string, any>;
    input.end.action = 'cancel';

    expect(errorOf(input).issues[0]).toMatch(/^policy\.json: end\.action: /);
  });

  it('reads several policies, segments and alsoNotify', () => {
    const set = parsePolicySet(annualPolicyFile());

    expect(Object.keys(set.policies)).toEqual(['default', 'annual']);
    expect(set.policies.annual!.end).toMatchObject({ day: 30, action: 'leave_unpaid' });
    expect(set.segments).toEqual([{ when: { interval: 'year' }, policy: 'annual' }]);
  });

  it('requires a policy named default', () => {
    const error = errorOf(annualPolicyFile((f) => delete f.policies.default));

    expect(error.issues).toEqual(['policy.json: policies: needs a policy named "default": it applies when no segment matches']);
  });

  it('names the valid policies when a segment names another', () => {
    const error = errorOf(annualPolicyFile((f) => (f.segments[0].policy = 'yearly')));

    expect(error.issues).toEqual(['policy.json: segments[0].policy: no policy named "yearly"; use one of "default", "annual"']);
  });

  it('rejects a when with no condition, saying what to use instead', () => {
    const error = errorOf(annualPolicyFile((f) => (f.segments[0].when = {})));

    expect(error.issues).toEqual([
      'policy.json: segments[0].when: a "when" needs at least one condition ("priceIds", "productIds", "interval" or "metadata"); for everyone else, rely on "default"',
    ]);
  });

  it('rejects an unknown condition, an unknown interval and ids that are not Stripe ids', () => {
    const error = errorOf(
      annualPolicyFile((f) => {
        f.segments = [
          { when: { plan: 'gold' }, policy: 'annual' },
          { when: { interval: 'annual' }, policy: 'annual' },
          { when: { priceIds: ['annual_price'] }, policy: 'annual' },
        ];
      }),
    );

    expect(error.issues).toEqual([
      'policy.json: segments[0].when: unknown condition "plan"; use "priceIds", "productIds", "interval" or "metadata"',
      'policy.json: segments[1].when.interval: unknown interval "annual"; use one of "day", "week", "month", "year"',
      'policy.json: segments[2].when.priceIds[0]: must be a Stripe id starting "price_", e.g. "price_1Annual"',
    ]);
  });

  it('names the bad field inside a named policy', () => {
    const error = errorOf(annualPolicyFile((f) => (f.policies.annual.end.day = 5)));

    expect(error.issues).toEqual(['policy.json: policies.annual.end.day: the end (day 5) cannot come before the last stage (day 30)']);
  });

  it('rejects a policy name that cannot prefix a state name', () => {
    const error = errorOf(annualPolicyFile((f) => (f.policies['annual plan'] = f.policies.annual)));

    expect(error.issues[0]).toMatch(/^policy\.json: policies\.annual plan: must start with a letter and hold only letters, digits/);
  });

  it('rejects thresholds in major units, unknown currencies and a bad address', () => {
    const error = errorOf(
      annualPolicyFile((f) => {
        f.alsoNotify = [
          { when: { amountAtLeast: { GBP: 100000 } }, email: 'finance@acme.test' },
          { when: { amountAtLeast: { gbp: 1000.5 } }, email: 'finance' },
        ];
      }),
    );

    expect(error.issues).toEqual([
      'policy.json: alsoNotify[0].when.amountAtLeast.GBP: must be a lower-case ISO 4217 currency code such as "gbp"',
      "policy.json: alsoNotify[1].when.amountAtLeast.gbp: must be a whole number in the currency's smallest unit (pence, cents): 100000 is £1,000.00",
      'policy.json: alsoNotify[1].email: must be an email address such as "finance@example.com"',
    ]);
  });

  it('rejects an unknown top-level field next to policies', () => {
    const error = errorOf(annualPolicyFile((f) => (f.brand = { productName: 'Acme' })));

    expect(error.issues).toEqual(['policy.json: (root): unknown field "brand"; a policy file with "policies" holds only "policies", "segments" and "alsoNotify"']);
  });

  it('is refused by parsePolicy, which reads one policy only', () => {
    expect(() => parsePolicy(annualPolicyFile(), 'policy.json')).toThrow(/holds several policies/);
  });
});

describe('choosePolicy', () => {
  const set = parsePolicySet(
    annualPolicyFile((f) => {
      f.policies.enterprise = structuredClone(f.policies.default);
      f.policies.legacy = structuredClone(f.policies.default);
      f.segments = [
        { when: { metadata: { tier: 'enterprise' } }, policy: 'enterprise' },
        { when: { priceIds: ['price_old1', 'price_old2'] }, policy: 'legacy' },
        { when: { productIds: ['prod_pro'], interval: 'year' }, policy: 'annual' },
      ];
    }),
  );

  it('falls back to default when no segment matches', () => {
    expect(choosePolicy(set, plan())).toBe('default');
  });

  it('matches any of the listed price ids', () => {
    expect(choosePolicy(set, plan({ priceIds: ['price_x', 'price_old2'] }))).toBe('legacy');
  });

  it('needs every condition of a when to hold', () => {
    expect(choosePolicy(set, plan({ intervals: ['year'] }))).toBe('annual');
    expect(choosePolicy(set, plan({ intervals: ['year'], productIds: ['prod_basic'] }))).toBe('default');
  });

  it('takes the first segment that matches', () => {
    expect(choosePolicy(set, plan({ intervals: ['year'], subscriptionMetadata: { tier: 'enterprise' } }))).toBe('enterprise');
  });

  it("matches metadata on the subscription, else on the price, and the subscription's value wins", () => {
    expect(choosePolicy(set, plan({ priceMetadata: { tier: 'enterprise' } }))).toBe('enterprise');
    expect(choosePolicy(set, plan({ subscriptionMetadata: { tier: 'smb' }, priceMetadata: { tier: 'enterprise' } }))).toBe('default');
  });
});

describe('alsoNotifyFor', () => {
  const set = parsePolicySet(annualPolicyFile());

  it('matches at or above the threshold of the amount’s own currency', () => {
    expect(alsoNotifyFor(set, { amount: 100000, currency: 'gbp' })).toHaveLength(1);
    expect(alsoNotifyFor(set, { amount: 99999, currency: 'gbp' })).toEqual([]);
    expect(alsoNotifyFor(set, { amount: 110000, currency: 'usd' })).toEqual([]);
  });

  it('never matches a currency it has no threshold for', () => {
    expect(alsoNotifyFor(set, { amount: 10_000_000, currency: 'jpy' })).toEqual([]);
  });
});

describe('policyOf', () => {
  const set = parsePolicySet(annualPolicyFile());
  const deps = { policy: set.policies.default!, policies: set };

  it("is the case's own policy", () => {
    expect(policyOf(deps, { invoiceId: 'in_1', policy: 'annual' }).end.action).toBe('leave_unpaid');
  });

  it('is default for a case opened before cases had a policy', () => {
    expect(policyOf(deps, { invoiceId: 'in_1' })).toBe(deps.policy);
  });

  it('fails loudly, never falls back, for a policy the deployed file no longer has', () => {
    expect(() => policyOf(deps, { invoiceId: 'in_1', policy: 'legacy' })).toThrow(
      expect.objectContaining({ name: 'InvalidInputError', message: 'case in_1: no policy named "legacy" in the deployed policy file (it has "default", "annual")' }),
    );
  });
});
