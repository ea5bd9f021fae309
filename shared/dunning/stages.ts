// The two kinds of policy stage the state machine invokes: send a notice, retry the payment.
// Both check the case first: a stop can race a stage that is already running.
import type { AccessRecords, Banners, CardBlocks, RetryLedger, CaseClaims, Cases, Invoices, Suppressions, Timeline } from '../domain/ports.ts';
import { CaseClosedError, InvalidInputError, PaymentInProgressError } from '../domain/errors.ts';
import type { NoticeStage, RetryStage } from '../policy/schema.ts';
import type { Policy } from '../policy/schema.ts';
import { renderNotice } from '../notices/render.ts';
import type { RetryTaskOutput } from '../workflow/definition.ts';
import { bannerOf } from './banner.ts';
import { recoverCase } from './close.ts';
import { policyNamed, policyOf, type Uses } from './deps.ts';
import type { DunningCase } from '../domain/case.ts';
import { DEFAULT_POLICY_NAME } from '../policy/segments.ts';
import { howPaid } from './paid-by.ts';
import { chargeCase } from './charge.ts';
import { sendCaseEmail } from './emails.ts';
import { standDownIfEndedInStripe } from './outside.ts';
import { stripeKey } from './stripe-keys.ts';
import { assertNotPaused } from './pause.ts';
import { STAND_DOWN_RETURN, type StandDownContract } from '../workflow/stand-down.ts';
import { declineFacts, record } from './timeline.ts';
import { applyAccessChangeOfDay } from './access-changes.ts';
import { decideAtWake } from '../retries/plan.ts';
import { noticeMayBeEarly } from '../retries/schedule.ts';

/** How often, and how long apart, a retry stage looks again at a charge of its invoice already under way. */
const BUSY_WAITS = 3;
const BUSY_WAIT_MS = 1_000;
import { businessNow, dueByDay, planInput, recordDecision, scheduleAnchor, startStageClock, waitStamp, waitUntilAfter } from './retry-plan.ts';

/** A notice that starts this close to its moment is on time (a Wait wakes a little early or late). */
const EARLY_TOLERANCE_MS = 60_000;

export interface NoticeStageResult {
  /** `early`: it started before its policy day (the retry before it moved earlier); nothing was done. */
  outcome: 'sent' | 'undeliverable' | 'already_sent' | 'early';
  /**
   * When the next step is due (ISO 8601): the Wait after this stage waits until it. For `early`,
   * when this notice is due: the state machine waits in `<notice>Later` and runs it again.
   */
  waitUntil: string;
}

/** What runNoticeStage touches. */
export type RunNoticeStageDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'caseClock' | 'log' | 'metrics', Cases & CaseClaims & Banners & Suppressions & RetryLedger & AccessRecords & Timeline, Invoices>;

/**
 * `policyName` is the policy whose state invoked the stage (a definition of several policies passes
 * it); without it, the case's own.
 */
export async function runNoticeStage(
  deps: RunNoticeStageDeps,
  invoiceId: string,
  stageId: string,
  policyName?: string,
  /** `ahead`: sent before its day on purpose (Stripe's own attempt failed, under `retries: "stripe"`). */
  options: { ahead?: boolean } = {},
): Promise<NoticeStageResult> {
  const policy = await stagePolicy(deps, invoiceId, policyName);
  const stage = findStage(policy, stageId, 'notice');
  const now = deps.clock.now().toISOString();
  const begun = await deps.store.beginStage(invoiceId, stage.id, now);
  checkPolicy(begun, policyName);
  assertNotPaused(begun, deps.clock.now());
  // Notices keep their days: one that follows a retry moved to an earlier day waits for its own.
  const due = dueByDay(policy, stage.id)(scheduleAnchor(deps, begun));
  if (!options.ahead && noticeMayBeEarly(policy, stage.id) && businessNow(deps, begun).getTime() < due.getTime() - EARLY_TOLERANCE_MS) {
    deps.log.info('notice started before its day; waiting for it', { invoiceId, stage: stage.id, due: due.toISOString() });
    return { outcome: 'early', waitUntil: waitStamp(deps, begun, due) };
  }
  const dunningCase = await startStageClock(deps, begun, () => due);

  // Never nag a customer who has paid, or whose subscription has been canceled: Stripe is the truth
  // even if its invoice.paid or customer.subscription.deleted is late or lost.
  const invoice = await deps.stripe.getInvoice(invoiceId, { withSubscription: true });
  if (invoice.status === 'paid' && (await recoverCase(deps, invoiceId, howPaid(invoice))).recovered) {
    throw new CaseClosedError(invoiceId, 'recovered');
  }
  await standDownIfEndedInStripe(deps, dunningCase, invoice);
  // The policy's access change of this notice's day comes with it, before the email says so.
  if (!options.ahead) await applyAccessChangeOfDay(deps, policy, dunningCase, stage.day, stage.id);
  // Part of a multi-invoice case may have been paid just now: show what is still owed.
  const current = (await deps.store.getCase(invoiceId)) ?? dunningCase;

  // Our own signed short link, never a portal session: those expire in minutes, emails are read for days.
  const updatePaymentUrl = await deps.links.updatePaymentUrl(dunningCase);
  const rendered = renderNotice(stage.notice, { policy, dunningCase: current, updatePaymentUrl });

  if (!(await deps.store.claimStageEmail(invoiceId, stage.id, now))) {
    deps.log.info('notice already sent for this stage; not sending again', { invoiceId, stage: stage.id });
    return { outcome: 'already_sent', waitUntil: await waitUntilAfter(deps, policy, current, stage.id) };
  }
  const banner = bannerOf(policy, current, stage.id, rendered, updatePaymentUrl, now);
  if (banner) await deps.store.putBanner(banner);
  const outcome = await sendCaseEmail(deps, dunningCase, stage.id, rendered, () =>
    deps.store.releaseStageEmail(invoiceId, stage.id, now),
  );
  return { outcome, waitUntil: await waitUntilAfter(deps, policy, current, stage.id) };
}

export interface RetryStageOptions {
  /**
   * The Task's `standDown`: `"return"` marks a definition whose RecoverCase takes the retry's result,
   * so a payment made elsewhere is handed to it as `paid`, with how it was paid (shared/workflow/stand-down.ts).
   */
  standDown?: StandDownContract;
}

/** What runRetryStage touches. */
export type RunRetryStageDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'caseClock' | 'log' | 'metrics', Cases & CardBlocks & RetryLedger & CaseClaims & Banners & Suppressions & Timeline, Invoices>;

/**
 * Charges the case. Sends no email (retry-payment has no sender): when the invoice turns out paid
 * already, RecoverCase, which follows a `paid`, recovers the case and thanks the customer.
 */
export async function runRetryStage(
  deps: RunRetryStageDeps,
  invoiceId: string,
  stageId: string,
  policyName?: string,
  options: RetryStageOptions = {},
): Promise<RetryTaskOutput> {
  const policy = await stagePolicy(deps, invoiceId, policyName);
  const stage = findStage(policy, stageId, 'retry');
  const now = deps.clock.now().toISOString();
  const begun = await deps.store.beginStage(invoiceId, stage.id, now);
  checkPolicy(begun, policyName);
  assertNotPaused(begun, deps.clock.now());
  const planFor = begun.nextRetry?.stage === stage.id && begun.nextRetry.at ? begun.nextRetry.at : undefined;
  const dunningCase = await startStageClock(deps, begun, (anchor) => (planFor ? new Date(planFor) : dueByDay(policy, stage.id)(anchor)));
  const next = async () => {
    // This retry is done with: the plan it ran by is no longer the next one.
    if (dunningCase.nextRetry?.stage === stage.id) await deps.store.setNextRetry(invoiceId, undefined, deps.clock.now().toISOString());
    return waitUntilAfter(deps, policy, (await deps.store.getCase(invoiceId)) ?? dunningCase, stage.id);
  };

  // The retry rules decide once the card is known (a stopped card, a cap, a back-off, the window).
  const planned = dunningCase.nextRetry?.stage === stage.id && dunningCase.nextRetry.at ? dunningCase.nextRetry : undefined;
  const standing = planned && {
    at: new Date(planned.at!),
    plannedAt: new Date(planned.plannedAt),
    reason: planned.reason,
    reasonClass: planned.reasonClass,
  };
  const gate =
    policy.retries === 'workflow'
      ? (card: { id: string; brand?: string }, current: DunningCase) => decideAtWake(planInput(deps, policy, current, stage.id, card), standing)
      : undefined;
  const charge = () =>
    chargeCase(deps, dunningCase, {
      holder: stage.id,
      idempotencyKey: stripeKey(dunningCase, stage.id),
      scheduled: true,
      by: 'workflow',
      gate,
      ...(planned ? { plannedFor: planned.at } : {}),
    });
  let result = await charge();
  // Another charge of the invoice (a card put in a moment ago) is under way: it takes a second or
  // two, and then this one finds the invoice paid. Wait that long before failing the attempt for
  // the state machine to retry, so the common race is not a function error (and an alarm).
  for (let wait = 0; result.outcome === 'busy' && wait < BUSY_WAITS; wait++) {
    await new Promise((resolve) => setTimeout(resolve, BUSY_WAIT_MS));
    result = await charge();
  }
  if (result.outcome === 'busy') throw new PaymentInProgressError(`another charge of ${invoiceId} is under way`);
  if (result.outcome === 'held') {
    await recordDecision(deps, policy, dunningCase, stage.id, result.decision);
    if (result.decision.kind === 'retry') {
      // Not yet: the state machine waits in `<stage>Later` until then, and runs this stage again.
      return { outcome: 'later', waitUntil: waitStamp(deps, dunningCase, result.decision.at) };
    }
    return { outcome: 'declined', code: `skipped_${result.decision.reasonClass}`, waitUntil: await next() };
  }
  if (result.outcome === 'left_to_stripe') {
    await record(deps, invoiceId, 'retry_skipped', { at: now, stage: stage.id, detail: result.reason });
    return { outcome: 'declined', code: 'left_to_stripe', waitUntil: await next() };
  }
  if (result.outcome === 'skipped') {
    await record(deps, invoiceId, 'retry_skipped', { at: now, stage: stage.id, detail: `same card, ${result.code}` });
    deps.log.info('retry skipped: the card on file cannot succeed', { invoiceId, stage: stage.id, code: result.code });
    return { outcome: 'declined', code: result.code, waitUntil: await next() };
  }
  if (result.outcome === 'already_paid') {
    // Paid by someone else (the customer, Stripe) and its webhook not processed yet: credit them.
    const recoveredBy = howPaid(result.invoice);
    deps.log.info('retry found the invoice paid already', { invoiceId, stage: stage.id, recoveredBy });
    if (options.standDown === STAND_DOWN_RETURN) return { outcome: 'paid', recoveredBy };
    // An earlier definition's RecoverCase would record workflow_retry: record how it was paid here,
    // and leave the thank-you to that RecoverCase, which a `paid` leads to.
    if ((await recoverCase(deps, invoiceId, recoveredBy, { confirm: false })).recovered) return { outcome: 'paid', recoveredBy };
    return { outcome: 'declined', code: 'still_open', waitUntil: await next() };
  }
  if (result.outcome === 'paid') {
    await record(deps, invoiceId, 'retry_paid', { at: now, stage: stage.id });
    deps.log.info('retry paid the invoice', { invoiceId, stage: stage.id });
    return { outcome: 'paid', recoveredBy: 'workflow_retry' };
  }
  const code = result.declineCode ?? result.code;
  await record(deps, invoiceId, 'retry_declined', { at: now, stage: stage.id, detail: code, facts: declineFacts(result) });
  deps.log.info('retry declined', { invoiceId, stage: stage.id, code });
  return { outcome: 'declined', code, waitUntil: await next() };
}

/** The stage's policy: the one its state names, else the case's (read only when the file has several). */
async function stagePolicy(deps: Uses<'policy' | 'policies', Cases>, invoiceId: string, policyName: string | undefined): Promise<Policy> {
  if (policyName !== undefined) return policyNamed(deps, policyName, invoiceId);
  if (!deps.policies || Object.keys(deps.policies.policies).length <= 1) return deps.policy;
  return policyOf(deps, await deps.store.getCase(invoiceId));
}

/** A state of one policy acting on a case of another would send the wrong copy: a wiring bug, loudly. */
function checkPolicy(dunningCase: DunningCase, policyName: string | undefined): void {
  const casePolicy = dunningCase.policy ?? DEFAULT_POLICY_NAME;
  if (policyName !== undefined && policyName !== casePolicy) {
    throw new InvalidInputError(`case ${dunningCase.invoiceId} runs policy "${casePolicy}", not "${policyName}"`);
  }
}

function findStage(policy: Policy, stageId: string, type: 'notice'): NoticeStage;
function findStage(policy: Policy, stageId: string, type: 'retry'): RetryStage;
function findStage(policy: Policy, stageId: string, type: 'notice' | 'retry'): NoticeStage | RetryStage {
  const stage = policy.stages.find((s) => s.id === stageId);
  if (!stage || stage.type !== type) {
    throw new InvalidInputError(`the policy has no ${type} stage "${stageId}"`);
  }
  return stage;
}
