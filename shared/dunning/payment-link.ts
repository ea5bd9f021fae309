// What GET /u/{token} does: check the signed token, the rate limit and the case (or, for a
// pre-dunning heads-up's link, the renewal), then open a fresh Stripe billing portal session for that
// one customer. Portal URLs expire in minutes, so they are made here, at the click, and never put in
// an email.
import { createHash } from 'node:crypto';
import type { DunningCase } from '../domain/case.ts';
import type { CaseQueries, Cases, Clock, Customers, Invoices, Log, RateLimiter, Subscriptions } from '../domain/ports.ts';
import type { LinkPage } from '../links/pages.ts';
import { verifyLinkToken, type HeadsUpLinkClaims } from '../links/token.ts';

/** Each token may open the portal this many times per window: plenty for a person, little for a script. */
export const LINK_RATE_LIMIT = { limit: 10, windowMs: 10 * 60 * 1000 } as const;

export interface PaymentLinkDeps {
  store: Pick<Cases, 'getCase'> & Pick<CaseQueries, 'listCasesOfCustomer'>;
  stripe: Pick<Invoices, 'getInvoice'> & Pick<Subscriptions, 'getSubscriptionStatus'> & Pick<Customers, 'createPaymentUpdateUrl'>;
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
  const { claims } = verified;
  const about = claims.kind === 'heads_up' ? { subscriptionId: claims.subscriptionId, link: 'heads_up' } : { invoiceId: claims.invoiceId };

  // Counted per token, after the signature: only real links cost a write, and each costs Stripe a call.
  if (!(await deps.limiter.take(`link#${tokenDigestKey(token)}`, LINK_RATE_LIMIT.limit, LINK_RATE_LIMIT.windowMs, now))) {
    deps.log.warn('payment link rate-limited', about);
    return { kind: 'page', page: 'rate_limited' };
  }
  if (claims.kind === 'heads_up') return openHeadsUpLink(deps, claims);

  const dunningCase = await deps.store.getCase(claims.invoiceId);
  // A signed token naming a case that is not this customer's would be a key leak or a bug: refuse.
  if (!dunningCase || dunningCase.customerId !== claims.customerId) {
    deps.log.warn('payment link names no case of its customer', about);
    return { kind: 'page', page: 'invalid' };
  }
  return openCaseLink(deps, dunningCase);
}

/** A case's link: the portal while the case waits for a card, a friendly page once it has ended. */
async function openCaseLink(deps: PaymentLinkDeps, dunningCase: DunningCase): Promise<LinkOutcome> {
  const { invoiceId, customerId } = dunningCase;
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

/**
 * Stripe may attempt a renewal a little before the upcoming invoice's estimate; a case that failed
 * this long before `renewsAt` belongs to an earlier renewal, not the one the heads-up was about.
 */
const RENEWAL_SLACK_SECONDS = 24 * 60 * 60;

/**
 * A heads-up's link, sent before any case existed. If the renewal (or another invoice of the
 * subscription) has failed since, the link is that case's link; otherwise it opens the portal while
 * the subscription lives.
 */
async function openHeadsUpLink(deps: PaymentLinkDeps, claims: HeadsUpLinkClaims): Promise<LinkOutcome> {
  const { customerId, subscriptionId, renewsAt } = claims;
  const cases = (await deps.store.listCasesOfCustomer(customerId)).filter((c) => c.subscriptionId === subscriptionId);
  const since =
    cases.find((c) => c.status === 'open' || c.status === 'needs_attention') ??
    cases.find((c) => Date.parse(c.failedAt) >= (renewsAt - RENEWAL_SLACK_SECONDS) * 1000);
  if (since) {
    deps.log.info('heads-up link opened after a case opened; answering as that case', { subscriptionId, invoiceId: since.invoiceId });
    return openCaseLink(deps, since);
  }

  // Canceled (a deleted customer's subscriptions are too): there is no renewal left to pay for.
  const status = await deps.stripe.getSubscriptionStatus(subscriptionId);
  if (status === 'canceled' || status === 'incomplete_expired') return { kind: 'page', page: 'closed' };

  const url = await deps.stripe.createPaymentUpdateUrl(customerId, deps.myAccountUrl);
  deps.log.info('heads-up link opened the billing portal', { subscriptionId });
  return { kind: 'redirect', url };
}

/** A digest of the token: one counter per token, and the table never holds a usable link. */
function tokenDigestKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 32);
}
