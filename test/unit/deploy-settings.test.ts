// What `cdk synth` / `cdk deploy` refuses before it builds anything: a deploy whose notices nobody
// would receive (no sender, or one at a reserved example domain), or whose brand links lead nowhere.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkDeployablePolicy, isReservedDomain, readDeploySettings } from '#infra/deploy-settings.ts';
import { loadPolicySetFile, parsePolicySet } from '#shared/policy/load.ts';
import { defaultPolicy } from '../fixtures/policies.ts';

const noContext = () => undefined;
const context = (values: Record<string, string>) => (key: string) => values[key];
const SENDER_FIX = 'pass -c sender=billing@yourdomain.com or set DUNNING_SENDER (an address SES has verified)';

describe('readDeploySettings', () => {
  it('refuses a deploy without a sender, naming both ways to give one', () => {
    expect(() => readDeploySettings(noContext, {})).toThrow(`No sender: every notice needs a From address; ${SENDER_FIX}`);
    expect(() => readDeploySettings(context({ sender: ' ' }), {})).toThrow(/^No sender/);
  });

  it.each(['billing@example.com', 'billing@mail.example.org', 'billing@example.net', 'billing@acme.test', 'billing@acme.example', 'billing@x.invalid', 'billing@localhost'])(
    'refuses %s, at a domain reserved so that it never receives mail',
    (sender) => {
      expect(() => readDeploySettings(context({ sender }), {})).toThrow(
        `Sender ${sender} is at a reserved example domain, so no notice would be delivered; ${SENDER_FIX}`,
      );
    },
  );

  it('looks inside a display name for the address', () => {
    expect(() => readDeploySettings(noContext, { DUNNING_SENDER: 'Acme Billing <billing@example.com>' })).toThrow(/^Sender billing@example\.com is at a reserved/);
  });

  it('takes the sender from context before the environment, and the optional settings with it', () => {
    const settings = readDeploySettings(context({ sender: 'billing@acme.com', replyTo: 'help@acme.com, desk@acme.com' }), {
      DUNNING_SENDER: 'other@acme.com',
      DUNNING_ALARM_EMAIL: 'oncall@acme.com',
    });

    expect(settings).toEqual({ sender: 'billing@acme.com', replyTo: ['help@acme.com', 'desk@acme.com'], alarmEmail: 'oncall@acme.com' });
  });

  it('does not mistake a real domain that merely ends like a reserved one', () => {
    expect(isReservedDomain('acme-example.com')).toBe(false);
    expect(isReservedDomain('latest')).toBe(false);
    expect(isReservedDomain('contest.io')).toBe(false);
  });
});

describe('checkDeployablePolicy', () => {
  const POLICY_FIX = 'set DUNNING_POLICY_FILE to your policy (examples/policy.json is one to start from)';
  const withBrand = (brand: Record<string, string>) => parsePolicySet({ ...defaultPolicy(), brand: { ...defaultPolicy().brand, supportEmail: 'support@acme.com', ...brand } });

  it("refuses the bundled default, whose My Account link is the local runtime's", () => {
    expect(() => checkDeployablePolicy(loadPolicySetFile(), 'default.json')).toThrow(
      `default.json: brand.myAccountUrl http://127.0.0.1:3000/account points at this machine, so every email would carry a dead link; ${POLICY_FIX}`,
    );
  });

  it.each(['http://localhost:3000/account', 'https://app.localhost/account', 'http://[::1]/account', 'http://127.1.2.3/account'])('refuses a link to this machine: %s', (url) => {
    expect(() => checkDeployablePolicy(withBrand({ myAccountUrl: url }), 'policy.json')).toThrow(/points at this machine/);
  });

  it('refuses a logo or support address at a reserved example domain', () => {
    expect(() => checkDeployablePolicy(withBrand({ myAccountUrl: 'https://acme.com/account', logoUrl: 'https://example.com/logo.png' }), 'policy.json')).toThrow(
      'policy.json: brand.logoUrl https://example.com/logo.png is at a reserved example domain, so every email would carry a dead link',
    );
    expect(() => checkDeployablePolicy(withBrand({ myAccountUrl: 'https://acme.com/account', supportEmail: 'help@acme.test' }), 'policy.json')).toThrow(
      'policy.json: brand.supportEmail help@acme.test is at a reserved example domain, so no customer could write to it',
    );
  });

  it('accepts the example policy the README gives deployers', () => {
    const file = fileURLToPath(new URL('../../examples/policy.json', import.meta.url));

    expect(() => checkDeployablePolicy(loadPolicySetFile(file), file)).not.toThrow();
  });
});

describe('readDeploySettings: the request budget', () => {
  const sender = { DUNNING_SENDER: 'billing@acme.com' };
  const noContext = () => undefined;

  it('takes DUNNING_STRIPE_BUDGET and DUNNING_EMAIL_BUDGET, or their -c forms', () => {
    expect(readDeploySettings(noContext, { ...sender, DUNNING_STRIPE_BUDGET: '30/8', DUNNING_EMAIL_BUDGET: '4' }).budget).toEqual({
      stripe: { perSecond: 30, perEndpointPerSecond: 8 },
      emailsPerSecond: 4,
    });
    const context = (key: string) => ({ stripeBudget: '20', emailBudget: 2 })[key];
    expect(readDeploySettings(context, sender).budget).toEqual({ stripe: { perSecond: 20 }, emailsPerSecond: 2 });
  });

  it('leaves the budget to the defaults when neither is set', () => {
    expect(readDeploySettings(noContext, sender).budget).toBeUndefined();
  });

  it('refuses a budget it cannot read, with the variable and the form it wants', () => {
    expect(() => readDeploySettings(noContext, { ...sender, DUNNING_STRIPE_BUDGET: 'fast' })).toThrow(
      'Request budget: DUNNING_STRIPE_BUDGET: write requests per second as "40/10" (the account / each endpoint) or "40"',
    );
    expect(() => readDeploySettings(noContext, { ...sender, DUNNING_STRIPE_BUDGET: '10/20' })).toThrow(
      "Request budget: DUNNING_STRIPE_BUDGET: the budget per endpoint (20) cannot be above the account's (10)",
    );
  });
});

