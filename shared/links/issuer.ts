// Makes the short link a notice carries: `${baseUrl}/u/{token}`, signed for one customer and case,
// or, for a pre-dunning heads-up, one customer and the renewal it warns about.
import type { Clock, PaymentLinks } from '../domain/ports.ts';
import { headsUpLinkExpiry, linkExpiry, linkUrl, signLinkToken } from './token.ts';

export interface LinkIssuerOptions {
  /** Where GET /u/{token} is served: the link function's URL in AWS, the runtime's port locally. */
  baseUrl: string;
  /** The signing key, resolved on first use (Secrets Manager in AWS). */
  signingKey: () => Promise<string>;
  clock: Clock;
}

export function createPaymentLinks({ baseUrl, signingKey, clock }: LinkIssuerOptions): PaymentLinks {
  return {
    async updatePaymentUrl(dunningCase) {
      const expiresAt = linkExpiry(dunningCase.terminatesAt, clock.now());
      const token = signLinkToken({ customerId: dunningCase.customerId, invoiceId: dunningCase.invoiceId, expiresAt }, await signingKey());
      return linkUrl(baseUrl, token);
    },
    async headsUpUrl({ customerId, subscriptionId, renewsAt }) {
      const expiresAt = headsUpLinkExpiry(renewsAt, clock.now());
      const token = signLinkToken({ kind: 'heads_up', customerId, subscriptionId, renewsAt, expiresAt }, await signingKey());
      return linkUrl(baseUrl, token);
    },
  };
}

/** For functions that never make links: a call is a wiring bug, and fails loudly. */
export function noPaymentLinks(why: string): PaymentLinks {
  const refuse = () => Promise.reject(new Error(`this function cannot make payment links: ${why}`));
  return { updatePaymentUrl: refuse, headsUpUrl: refuse };
}
