// The bundled policy's My Account page is the local runtime's own /account: wherever the runtime
// answers (DUNNING_HOST, DUNNING_PORT, a test's free port), the policy's local URLs must follow it,
// and a merchant's own URLs must not move.
import { describe, expect, it } from 'vitest';
import { atLocalOrigin, movedUrl } from '#local/local-origin.ts';
import { loadPolicySetFile, parsePolicySet } from '#shared/policy/load.ts';
import { annualPolicyFile } from '../fixtures/policies.ts';

describe('atLocalOrigin', () => {
  it("moves the default policy's My Account to where the runtime answers, keeping the path", () => {
    const policies = atLocalOrigin(loadPolicySetFile(), 'http://127.0.0.1:4321');

    expect(policies.policies.default!.brand.myAccountUrl).toBe('http://127.0.0.1:4321/account');
  });

  it('moves every policy of a set, and keeps query and fragment', () => {
    const file = annualPolicyFile((f) => {
      f.policies.annual.brand.myAccountUrl = 'http://127.0.0.1:3000/annual/account?tab=billing#card';
    });

    const policies = atLocalOrigin(parsePolicySet(file), 'http://localhost:5000');

    expect(policies.policies.annual!.brand.myAccountUrl).toBe('http://localhost:5000/annual/account?tab=billing#card');
    expect(policies.policies.default!.brand.myAccountUrl).toBe('http://localhost:5000/account');
  });

  it("leaves a merchant's own URLs alone, and the policy it was given unchanged", () => {
    const file = annualPolicyFile((f) => {
      f.policies.annual.brand.myAccountUrl = 'https://acme.example/account';
      f.policies.annual.brand.logoUrl = 'http://127.0.0.1:3001/logo.png';
    });
    const given = parsePolicySet(file);
    const before = structuredClone(given);

    const policies = atLocalOrigin(given, 'http://127.0.0.1:4321');

    expect(policies.policies.annual!.brand.myAccountUrl).toBe('https://acme.example/account');
    expect(policies.policies.annual!.brand.logoUrl).toBe('http://127.0.0.1:3001/logo.png');
    expect(given).toEqual(before);
  });

  it('changes nothing at the default origin', () => {
    expect(movedUrl('http://127.0.0.1:3000/account', 'http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000/account');
  });
});
