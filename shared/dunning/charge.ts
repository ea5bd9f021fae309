// Charging a case's invoice, from a retry stage or a card update: one charge at a time per
// invoice, and never a charge of an invoice Stripe already holds as paid.
import type { Banners, CardBlocks, CaseClaims, Cases, Invoices, RetryLedger, Timeline } from '../domain/ports.ts';
import type { ChargeAttempt } from '../domain/retry-records.ts';
import { classifyFailure } from '../retries/classify.ts';
import { ruleBreaches } from '../retries/audit.ts';
import type { RetryDecision } from '../retries/plan.ts';
import { businessNow, stageNow, zonesOfCase } from './retry-plan.ts';
import type { DunningCase } from '../domain/case.ts';
import { CaseClosedError } from '../domain/errors.ts';
import { NO_PAYMENT_METHOD, type InvoiceSnapshot, type PayOutcome } from '../domain/ports.ts';
import { policyOf, type Uses } from './deps.ts';
import { blockingCode, describeFailure } from './declines.ts';
import { standDownIfEndedInStripe } from './outside.ts';
import { record } from './timeline.ts';

/** Longer than a pay call can take (the SDK's timeout and one network retry), so a lock outlives it. */
export const PAY_LOCK_MS = 60_000;

/** `already_paid`: Stripe held the invoice as paid before we charged (someone else's payment). */
export type ChargeResult =
  | PayOutcome
  /** Not charged: Stripe does the retrying, or has its own attempt within a day. */
  | { outcome: 'left_to_stripe'; reason: string }
  | { outcome: 'busy' }
  /** `invoice`: the case's own invoice as Stripe holds it, to tell how it was paid. */
  | { outcome: 'already_paid'; invoice: InvoiceSnapshot }
  /** Not charged: the card hard-declined or needs authentication, and the customer has not changed it. */
  | { outcome: 'skipped'; code: string }
  /** Not charged now: the retry rules (the gate) put it later, or skip it. */
  | { outcome: 'held'; decision: RetryDecision };

export interface ChargeRequest {
  /** Who charges, for the lock: the stage id, or the Stripe event that asked for it. */
  holder: string;
  idempotencyKey: string;
  /** A card to charge instead of the customer's default (the one just attached). */
  paymentMethod?: string;
  /**
   * A scheduled retry (not one the customer's new card asked for): it defers to Stripe's own
   * retries, so a card is never charged by two schedulers on the same day.
   */
  scheduled?: boolean;
  /** Who charges, for the case's record of attempts. */
  by: ChargeAttempt['by'];
  /**
   * The retry rules for this card, asked once the card to charge is known: a decision that is not
   * due holds the charge (a scheduled retry's; shared/retries/plan.ts `decideAtWake`).
   */
  /** Decides with the case as read under the pay lock, so a charge that just finished elsewhere counts. */
  gate?: (card: { id: string; brand?: string }, current: DunningCase) => RetryDecision & { due?: boolean };
  /** For a planned retry: the moment it was planned for, kept with the attempt. */
  plannedFor?: string;
}

const DAY_SECONDS = 86_400;

/** What chargeCase touches. */
export type ChargeCaseDeps = Uses<'policy' | 'policies' | 'clock' | 'caseClock' | 'log' | 'metrics', Cases & CardBlocks & RetryLedger & CaseClaims & Banners & Timeline, Invoices>;

export async function chargeCase(deps: ChargeCaseDeps, dunningCase: DunningCase, request: ChargeRequest): Promise<ChargeResult> {
  const { invoiceId } = dunningCase;
  if (!(await deps.store.acquirePayLock(invoiceId, request.holder, deps.clock.now(), PAY_LOCK_MS))) return { outcome: 'busy' };
  try {
    // Read under the lock: Terminate closes the case while it holds it, so a card put in at the
    // last minute never pays an invoice whose subscription has just been ended.
    const current = await deps.store.getCase(invoiceId);
    if (current?.status !== 'open' && current?.status !== 'needs_attention') throw new CaseClosedError(invoiceId, current?.status ?? 'missing');
    // Read under the lock: a charge that just finished elsewhere shows here as paid. The same
    // request says which card Stripe would charge, for the block and the retry rules below.
    // And whether its subscription is still live: Stripe stops collecting a canceled one's invoices.
    const primary: InvoiceSnapshot = await deps.stripe.getInvoice(invoiceId, { withPaymentMethod: !request.paymentMethod, withSubscription: true });
    await standDownIfEndedInStripe(deps, dunningCase, primary);
    const open = await openInvoicesOf(deps, current, primary);
    if (open.length === 0) return { outcome: 'already_paid', invoice: primary };
    if (request.scheduled) {
      if (policyOf(deps, dunningCase).retries === 'stripe') return { outcome: 'left_to_stripe', reason: 'the policy leaves retries to Stripe' };
      const nowSeconds = deps.clock.now().getTime() / 1000;
      const stripeNext = open.map((invoice) => invoice.nextPaymentAttempt).find((at) => at !== undefined && Math.abs(at - nowSeconds) < DAY_SECONDS);
      if (stripeNext !== undefined) {
        return { outcome: 'left_to_stripe', reason: `Stripe will try at ${new Date(stripeNext * 1000).toISOString()}` };
      }
    }
    // The card Stripe would charge, in Stripe's order: the one named, the invoice's, then the defaults.
    const card = request.paymentMethod ?? primary.paymentMethod ?? undefined;
    // The customer removed their card: a decline like any other (the notices go on asking for a new
    // one), and no request Stripe can only refuse.
    if (!card) return { outcome: 'declined', code: NO_PAYMENT_METHOD, message: 'the customer has no payment method to charge' };
    const attempts = current.chargeAttempts ?? [];
    const brand = [...attempts].reverse().find((a) => a.card === card && a.brand)?.brand;
    const decide = request.gate && (() => request.gate!({ id: card, ...(brand ? { brand } : {}) }, current));
    // From the case read under the lock: a charge that held the lock a moment ago (a card update)
    // may have blocked this very card since the caller read its case.
    const blocked = current.blockedPaymentMethod;
    if (blocked && card === blocked.id) {
      // A scheduled retry skips a blocked card in the rules' own words, naming the rule that stopped
      // it ("do_not_try_again from the issuer (do_not_honor)"): the bare block code alone can look
      // retryable (Mastercard's advice 03 comes with do_not_honor), and the skip is then on the
      // case's next retry and metrics like any other. A block the rules have no words for (a
      // detached card, never charged here) stays a plain skip.
      const decision = decide?.();
      if (decision?.kind === 'skip') return { outcome: 'held', decision };
      return { outcome: 'skipped', code: blocked.code };
    }
    if (decide) {
      const decision = decide();
      if (decision.kind === 'skip' || !decision.due) return { outcome: 'held', decision };
    }

    // Every open invoice of the case, oldest first; the first decline is the answer.
    let declined: Extract<PayOutcome, { outcome: 'declined' }> | undefined;
    for (const invoice of open) {
      const key = open.length === 1 ? request.idempotencyKey : `${request.idempotencyKey}:${invoice.id}`;
      const result = await deps.stripe.payInvoice(invoice.id, key, request.paymentMethod);
      if (result.outcome === 'declined') {
        declined = result;
        break; // the same card will decline the next one too
      }
    }
    // One attempt per charge of the case, however many of its invoices it paid.
    deps.metrics.count('RetryAttempted');
    const attempt: ChargeAttempt = {
      // A stage's charge at the moment it was due (locally, where its run lasts days); others' as they come.
      at: (request.by === 'workflow' ? stageNow(deps, current) : businessNow(deps, current)).toISOString(),
      by: request.by,
      outcome: declined ? 'declined' : 'paid',
      card,
      ...((declined?.cardBrand ?? brand) ? { brand: declined?.cardBrand ?? brand } : {}),
      ...(declined ? { failure: classifyFailure(declined) } : {}),
      ...(request.plannedFor ? { plannedFor: request.plannedFor } : {}),
    };
    await auditAndRecord(deps, current, attempt);
    if (!declined) {
      deps.metrics.count('RetrySucceeded');
      return { outcome: 'paid' };
    }
    deps.metrics.count('RetryDeclined');
    const block = blockingCode(declined);
    if (block) {
      const at = deps.clock.now().toISOString();
      await deps.store.blockPaymentMethod(invoiceId, { id: card, code: block, at });
      await record(deps, invoiceId, 'card_blocked', { at, detail: `${card}: ${describeFailure(declined)}` });
    }
    return declined;
  } finally {
    await deps.store.releasePayLock(invoiceId, request.holder);
  }
}

/** The invoices of the case (its own and those that joined it) that Stripe still holds as open. */
export async function openInvoicesOf(deps: Uses<never, never, Invoices>, dunningCase: DunningCase, primary?: InvoiceSnapshot): Promise<InvoiceSnapshot[]> {
  const invoices = await Promise.all([
    primary ?? deps.stripe.getInvoice(dunningCase.invoiceId),
    ...(dunningCase.extraInvoiceIds ?? []).map((id) => deps.stripe.getInvoice(id)),
  ]);
  return invoices.filter((invoice) => invoice.status === 'open').sort((a, b) => a.created - b.created);
}

/**
 * Records a charge on the case and checks it against the retry rules, independently of the planner
 * that allowed it: a charge that broke one counts as a WastedAttempt (an alarm; it must stay 0).
 */
export async function auditAndRecord(
  deps: Uses<'policy' | 'policies' | 'clock' | 'log' | 'metrics', RetryLedger>,
  dunningCase: DunningCase,
  attempt: ChargeAttempt,
): Promise<void> {
  const policy = policyOf(deps, dunningCase);
  const breaches = ruleBreaches(attempt, dunningCase.chargeAttempts ?? [], policy.retryTiming, zonesOfCase(policy, dunningCase).zones);
  if (breaches.length > 0) {
    deps.metrics.count('WastedAttempt');
    deps.log.warn('a charge broke the retry rules', { invoiceId: dunningCase.invoiceId, by: attempt.by, breaches });
  }
  await deps.store.recordChargeAttempt(dunningCase.invoiceId, attempt, deps.clock.now().toISOString());
}
