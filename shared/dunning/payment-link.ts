// What GET /u/{token} does: check the signed token, the rate limit and the case, then open a fresh
// Stripe billing portal session for that one customer. Portal URLs expire in minutes, so they are
// made here, at the click, and never put in an email.
import { createHash } from 'node:crypto';
import type { DunningCase } from '../domain/case.ts';
import type { CaseStore, Clock, PaymentGateway, RateLimiter } from '../domain/ports.ts';
import type { LinkPage } from '../links/pages.ts';
import { verifyLinkToken } from '../links/token.ts';
import type { Log } from './deps.ts';

/** Each token may open the portal this many times per window: plenty for a person, little for a script. */
export const LINK_RATE_LIMIT = { limit: 10, windowMs: 10 * 60 * 1000 } as const;

export interface PaymentLinkDeps {
  store: CaseStore;
  stripe: PaymentGateway;
  limiter: RateLimiter;
  /** The key the notices' links were signed with. */
  signingKey: string;
  /** Where the portal returns once the card is saved, and where every refusal points. */
  myAccountUrl: string;
  /**
   * The My Account URL of the case's own policy (its brand), where the portal returns for that case.
   * Omitted, `myAccountUrl` serves every case.
   */
  myAccountUrlOf?: (dunningCase: DunningCase) => string;
  clock: Clock;
  log: Log;
}

export type LinkOutcome = { kind: 'redirect'; url: string } | { kind: 'page'; page: LinkPage };

export async function openPaymentLink(deps: PaymentLinkDeps, token: string): Promise<LinkOutcome> {
  const now = deps.clock.now();
  const verified = verifyLinkToken(token, deps.signingKey, now);
  if (!verified.ok) {
    // Never logged: the token itself. Its failure reason is enough to tell a bug from a probe.
    deps.log.info('payment link refused', { reason: verified.reason });
    return { kind: 'page', page: verified.reason === 'expired' ? 'expired' : 'invalid' };
  }
  const { customerId, invoiceId } = verified.claims;

  // Counted per token, after the signature: only real links cost a write, and each costs Stripe a call.
  if (!(await deps.limiter.take(`link#${tokenDigestKey(token)}`, LINK_RATE_LIMIT.limit, LINK_RATE_LIMIT.windowMs, now))) {
    deps.log.warn('payment link rate-limited', { invoiceId });
    return { kind: 'page', page: 'rate_limited' };
  }

  const dunningCase = await deps.store.getCase(invoiceId);
  // A signed token naming a case that is not this customer's would be a key leak or a bug: refuse.
  if (!dunningCase || dunningCase.customerId !== customerId) {
    deps.log.warn('payment link names no case of its customer', { invoiceId });
    return { kind: 'page', page: 'invalid' };
  }
  if (dunningCase.status === 'recovered') return { kind: 'page', page: 'paid' };
  if (dunningCase.status === 'terminated' || dunningCase.status === 'closed') return { kind: 'page', page: 'closed' };

  // Paid a moment ago and its webhook not processed yet: thank them rather than ask for a card.
  const invoice = await deps.stripe.getInvoice(invoiceId);
  if (invoice.status === 'paid') return { kind: 'page', page: 'paid' };
  if (invoice.status === 'void' || invoice.status === 'draft') return { kind: 'page', page: 'closed' };

  const url = await deps.stripe.createPaymentUpdateUrl(customerId, deps.myAccountUrlOf?.(dunningCase) ?? deps.myAccountUrl);
  deps.log.info('payment link opened the billing portal', { invoiceId });
  return { kind: 'redirect', url };
}

/** A digest of the token: one counter per token, and the table never holds a usable link. */
function tokenDigestKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 32);
}
