// The policy's local URLs, moved to where the runtime really answers. The bundled default policy
// points My Account at http://127.0.0.1:3000/account, which the runtime serves; with DUNNING_PORT,
// DUNNING_HOST or a test's free port it answers elsewhere, and every email footer and "Go to My
// Account" button would lead nowhere. A URL at any other origin is the merchant's own: left alone.
import type { Brand } from '#shared/policy/schema.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import { DEFAULT_LOCAL_ORIGIN } from './config.ts';

/** The brand's URLs: the only places a policy names a page of its own. */
const BRAND_URLS = ['myAccountUrl', 'logoUrl'] as const satisfies ReadonlyArray<keyof Brand>;

/** `policies` with every brand URL at the default local origin moved to `origin`; a copy, unchanged when there is none. */
export function atLocalOrigin(policies: PolicySet, origin: string): PolicySet {
  const moved = structuredClone(policies);
  for (const policy of Object.values(moved.policies)) {
    for (const field of BRAND_URLS) {
      const url = policy.brand[field];
      if (url !== undefined) policy.brand[field] = movedUrl(url, origin);
    }
  }
  return moved;
}

/** The same path, query and fragment at `origin`, when `url` is at the default local origin. */
export function movedUrl(url: string, origin: string): string {
  const parsed = new URL(url);
  const target = new URL(origin);
  if (parsed.origin !== DEFAULT_LOCAL_ORIGIN || target.origin === DEFAULT_LOCAL_ORIGIN) return url;
  parsed.protocol = target.protocol;
  parsed.host = target.host;
  return parsed.toString();
}
