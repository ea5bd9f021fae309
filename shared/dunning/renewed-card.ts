// payment_method.automatically_updated: Stripe's card account updater renewed a card in place.
// Before a failure it answers the heads-up; with a case open, the renewed card is charged at once.
import type { Banners, CardBlocks, RetryLedger, CaseClaims, CaseQueries, Cases, Customers, HeadsUps, Invoices, Suppressions, Timeline } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { chargeAfterCardUpdate } from './card-update.ts';
import { reissueClears } from './declines.ts';
import type { Uses } from './deps.ts';
import type { IngestResult } from './ingest-result.ts';
import type { StripeEventEnvelope } from './invoice-event.ts';
import { cancelHeadsUp } from './pre-dunning.ts';

/** What cardRenewedByStripe touches. */
export type CardRenewedByStripeDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'caseClock' | 'log' | 'metrics' | 'workflow', Cases & CaseQueries & CardBlocks & RetryLedger & CaseClaims & Banners & Suppressions & HeadsUps & Timeline, Invoices & Customers>;

/**
 * Stripe's card account updater renewed a card in place. Before a failure it answers the heads-up;
 * with a case open, a renewed card the case is charged with is as good as a new one: retry at once.
 */
export async function cardRenewedByStripe(deps: CardRenewedByStripeDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const cancelled = await cancelHeadsUp(deps, event);
  if (cancelled.action !== 'heads_up_cancelled') return cancelled;
  const { customerId, cardId } = cancelled;
  // Only a case charged with this card: for any other, nothing changed since its last decline.
  const chargedWithIt = async (c: DunningCase) => (await deps.stripe.getRenewalCard(customerId, c.subscriptionId))?.id === cardId;
  // The same payment method with a new number or expiry: a block the reissue fixes comes off.
  const outcomes = await chargeAfterCardUpdate(deps, event, customerId, cardId, chargedWithIt, (block) => reissueClears(block.code));
  if (outcomes.length === 0) return cancelled;
  return { action: 'card_update_retried', outcomes };
}
