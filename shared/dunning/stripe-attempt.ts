// Stripe's own retry of an invoice whose case already runs (Smart Retries, a custom schedule)
// failed: recorded on the case, and under `retries: "stripe"` followed by the notice it makes due.
import type { AccessRecords, Banners, CaseClaims, Cases, Invoices, RetryLedger, Suppressions, Timeline } from '../domain/ports.ts';
import { auditAndRecord } from './charge.ts';
import { businessNow, stripeDecline } from './retry-plan.ts';
import type { DunningCase } from '../domain/case.ts';
import { CaseClosedError, CasePausedError } from '../domain/errors.ts';
import { DEFAULT_POLICY_NAME } from '../policy/segments.ts';
import { policyOf, type Uses } from './deps.ts';
import type { IngestResult } from './ingest-result.ts';
import { runNoticeStage } from './stages.ts';
import { record } from './timeline.ts';

/** What followStripeAttempt touches. */
export type FollowStripeAttemptDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'caseClock' | 'log' | 'metrics', Cases & CaseClaims & Banners & Suppressions & RetryLedger & AccessRecords & Timeline, Invoices>;

/**
 * Stripe's own attempt `attempt` at `invoiceId` failed: recorded on the case once per attempt number
 * (a claim among the case's `noticesSent`, like an `alsoNotify` rule's), however many deliveries of it
 * arrive, and under `retries: "stripe"` followed by its notice. A notice that could not be sent gives
 * the claim back, so the redelivered event tries again.
 */
export async function followStripeAttempt(deps: FollowStripeAttemptDeps, dunningCase: DunningCase, invoiceId: string, attempt: number): Promise<IngestResult | undefined> {
  const now = deps.clock.now().toISOString();
  const claim = stripeAttemptClaim(dunningCase, invoiceId, attempt);
  let claimed: boolean;
  try {
    claimed = await deps.store.claimStageEmail(dunningCase.invoiceId, claim, now);
  } catch (error) {
    if (error instanceof CaseClosedError) return { action: 'case_exists', invoiceId: dunningCase.invoiceId, status: error.status as DunningCase['status'] };
    throw error;
  }
  if (!claimed) {
    deps.log.info("Stripe's attempt already followed", { invoiceId: dunningCase.invoiceId, attempt });
    return undefined;
  }
  await record(deps, dunningCase.invoiceId, 'stripe_attempt_failed', { at: now, detail: `${invoiceId} attempt ${attempt}` });
  await recordStripeAttempt(deps, dunningCase, invoiceId);
  if (policyOf(deps, dunningCase).retries !== 'stripe') return undefined;
  try {
    return await noticeAfterStripeAttempt(deps, dunningCase, attempt);
  } catch (error) {
    await deps.store.releaseStageEmail(dunningCase.invoiceId, claim, now);
    throw error;
  }
}

/**
 * Stripe's attempt counts toward the card's network cap like ours, and its decline decides the next
 * retry as ours would: read why it failed (one request) and add it to the case's attempts. Under
 * `retries: "workflow"` Stripe's own retries should be off; one that broke the rules counts as a
 * WastedAttempt, which the alarm shows.
 */
async function recordStripeAttempt(deps: FollowStripeAttemptDeps, dunningCase: DunningCase, invoiceId: string): Promise<void> {
  const invoice = await deps.stripe.getInvoice(invoiceId, { withPaymentError: true });
  await auditAndRecord(deps, dunningCase, stripeDecline(businessNow(deps, dunningCase), invoice.lastPaymentError));
}

/** `StripeAttempt2`, or `StripeAttempt2:in_…` for a later invoice that joined the case. */
function stripeAttemptClaim(dunningCase: DunningCase, invoiceId: string, attempt: number): string {
  return invoiceId === dunningCase.invoiceId ? `StripeAttempt${attempt}` : `StripeAttempt${attempt}:${invoiceId}`;
}

/** What noticeAfterStripeAttempt touches. */
type NoticeAfterStripeAttemptDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'caseClock' | 'log' | 'metrics', Cases & CaseClaims & Banners & Suppressions & RetryLedger & AccessRecords & Timeline, Invoices>;

/**
 * With `retries: "stripe"` the notices follow Stripe's attempts: the failure of Stripe's attempt n
 * sends the earliest notice stage among the first n that has not gone out, at once, rather than on
 * its policy day (which stays the latest it goes). A replayed or late event of attempt n can never
 * reach past notice n, and the stage's claim keeps the scheduled run from sending it again.
 */
async function noticeAfterStripeAttempt(deps: NoticeAfterStripeAttemptDeps, dunningCase: DunningCase, attempt: number): Promise<IngestResult | undefined> {
  const due = policyOf(deps, dunningCase).stages
    .filter((stage) => stage.type === 'notice')
    .slice(0, attempt)
    .find((stage) => !dunningCase.noticesSent.includes(stage.id));
  if (!due) return undefined;
  try {
    const { outcome } = await runNoticeStage(deps, dunningCase.invoiceId, due.id, dunningCase.policy ?? DEFAULT_POLICY_NAME, { ahead: true });
    if (outcome === 'early') throw new Error('a notice sent ahead of its day cannot be early');
    deps.log.info("notice sent after Stripe's attempt failed", { invoiceId: dunningCase.invoiceId, stage: due.id, attempt, outcome });
    return { action: 'notice_sent', invoiceId: dunningCase.invoiceId, stage: due.id, outcome };
  } catch (error) {
    // Paused by an operator: the scheduled stage sends it after the pause, on its policy day.
    if (error instanceof CasePausedError) {
      deps.log.info('case paused; no notice after the Stripe attempt', { invoiceId: dunningCase.invoiceId, stage: due.id, attempt });
      return { action: 'case_exists', invoiceId: dunningCase.invoiceId, status: dunningCase.status };
    }
    // Paid or ended in Stripe meanwhile: the stage has closed the case, and there is nothing to say.
    if (error instanceof CaseClosedError) {
      const now = await deps.store.getCase(dunningCase.invoiceId);
      return { action: 'case_exists', invoiceId: dunningCase.invoiceId, status: now?.status ?? dunningCase.status };
    }
    throw error;
  }
}
