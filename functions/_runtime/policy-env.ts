// The policy file CDK bundled into a function's code (esbuild define), validated at cold start.
import { ENV } from '#shared/config.ts';
import { parsePolicySet } from '#shared/policy/load.ts';
import type { PolicySet } from '#shared/policy/segments.ts';

/**
 * The policy file CDK bundled into the code (esbuild define), or the one the environment provides:
 * every policy, the segments and alsoNotify (a single policy is the set's `default`).
 */
export function policiesFromEnvironment(): PolicySet {
  // Spelled out in full: esbuild's define replaces only this literal expression when CDK bundles.
  const json = process.env.DUNNING_POLICY_JSON;
  if (!json) throw new Error(`${ENV.policyJson} is not set: the policy must be bundled or provided`);
  return parsePolicySet(JSON.parse(json), ENV.policyJson);
}
