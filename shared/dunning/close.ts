// Ending a case: recovered (paid by any route), terminated (every retry failed) or flagged for a
// person. Each close is one conditional write, so exactly one caller sends the closing email.
import type { Banners, CaseClaims, Cases, Invoices, Subscriptions, Suppressions, Timeline } from '../domain/ports.ts';
import type { DunningCase, RecoveredBy } from '../domain/case.ts';
import { CaseClosedError, CaseNotFoundError, PaymentInProgressError } from '../domain/errors.ts';
import type { NoticeSpec } from '../policy/schema.ts';
import { renderNotice } from '../notices/render.ts';
import { policyOf, type Uses } from './deps.ts';
import { howPaid } from './paid-by.ts';
import { CANCELED_IN_STRIPE, closeFromOutside } from './outside.ts';
import { openInvoicesOf, PAY_LOCK_MS } from './charge.ts';
import { stripeKey } from './stripe-keys.ts';
import { sendCaseEmail } from './emails.ts';
import { assertNotPaused } from './pause.ts';
import { record, writeOnce } from './timeline.ts';
import { recordClose } from './close-entries.ts';

export interface RecoverResult {
  /** True when the case is recovered (by this call or an earlier one). */
  recovered: boolean;
  /** True only for the call that moved the case from open to recovered. */
  closedNow: boolean;
  status: DunningCase['status'] | 'missing';
}

export interface RecoverOptions {
  /**
   * False leaves the confirmation to a later call that sends it (a function without a sender,
   * retry-payment, is followed by RecoverCase). Default true.
   */
  confirm?: boolean;
}

/** What recoverCase touches. */
export type RecoverCaseDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics', Cases & CaseClaims & Banners & Suppressions & Timeline, Invoices>;

/**
 * Marks the case recovered, clears the banner and sends one confirmation. Safe to call from the
 * webhook and the state machine at once, and again after a crash: the close and the confirmation
 * are each claimed once. The first call to close the case records `recoveredBy`.
 */
export async function recoverCase(deps: RecoverCaseDeps, invoiceId: string, recoveredBy: RecoveredBy, options: RecoverOptions = {}): Promise<RecoverResult> {
  const now = deps.clock.now().toISOString();
  // A case that other invoices of the subscription joined recovers only when all of them are paid.
  const before = await deps.store.getCase(invoiceId);
  if (before?.extraInvoiceIds?.length && (before.status === 'open' || before.status === 'needs_attention')) {
    const stillOpen = await openInvoicesOf(deps, before);
    if (stillOpen.length > 0) {
      const owed = stillOpen.reduce((sum, invoice) => sum + invoice.amountRemaining, 0);
      await deps.store.setAmountDue(invoiceId, owed, now);
      // What was just paid counts as recovered now; the final close counts only what is still owed.
      // (Two concurrent calls in this branch could both count it: rare, and only on multi-invoice cases.)
      const paid = before.amountDue.amount - owed;
      if (paid > 0) deps.metrics.count('RecoveredAmount', { Currency: before.amountDue.currency.toUpperCase() }, paid);
      await record(deps, invoiceId, 'invoice_paid', { at: now, detail: `${stillOpen.length} invoice(s) still open` });
      return { recovered: false, closedNow: false, status: before.status };
    }
  }
  // A flagged case is still unpaid: a payment recovers it like an open one.
  const closed = await deps.store.closeCase(invoiceId, 'recovered', { now, recoveredBy, from: ['open', 'needs_attention'] });
  const dunningCase = closed ?? (await deps.store.getCase(invoiceId));
  if (!dunningCase) return { recovered: false, closedNow: false, status: 'missing' };
  if (dunningCase.status !== 'recovered') return { recovered: false, closedNow: false, status: dunningCase.status };

  // The call that closed it records it; a later one writes what a call that died in between did not.
  const by = dunningCase.recoveredBy ?? recoveredBy;
  const recorded = await recordClose(deps, policyOf(deps, dunningCase), dunningCase, closed !== undefined, now, {
    type: 'recovered',
    detail: `paid: ${by}`,
    facts: { recoveredBy: by },
  });
  if (recorded) {
    deps.metrics.count('CaseRecovered', { RecoveredBy: by });
    const { amount, currency } = dunningCase.amountDue;
    if (amount > 0) deps.metrics.count('RecoveredAmount', { Currency: currency.toUpperCase() }, amount);
    deps.log.info('case recovered', { invoiceId, customerId: dunningCase.customerId, recoveredBy: by, amount, currency });
  }
  // Unconditional: a retry after a crash between the close and this line still clears it.
  await deps.store.clearBanner(dunningCase.customerId, invoiceId);
  if (options.confirm !== false) await sendClosingEmail(deps, dunningCase, 'confirmation', policyOf(deps, dunningCase).recovered.notice, 'Recovered');
  return { recovered: true, closedNow: closed !== undefined, status: 'recovered' };
}

/** What terminateCase touches. */
export type TerminateCaseDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics', Cases & CaseClaims & Banners & Suppressions & Timeline, Invoices & Subscriptions>;

/** Runs the policy's end action, then tells the customer their subscription has ended. */
export async function terminateCase(deps: TerminateCaseDeps, invoiceId: string): Promise<void> {
  const now = deps.clock.now().toISOString();
  let dunningCase: DunningCase;
  try {
    dunningCase = await deps.store.beginStage(invoiceId, 'Terminate', now);
  } catch (error) {
    // A retry of this stage after its end action ran and the case closed as terminated, but before
    // the customer was told (SES throttled, a crash): tell them now. The claim sends it once.
    if (error instanceof CaseClosedError && error.status === 'terminated') {
      const ended = await deps.store.getCase(invoiceId);
      if (ended) {
        const action = policyOf(deps, ended).end.action;
        if (await recordClose(deps, policyOf(deps, ended), ended, false, now, { type: 'terminated', stage: 'Terminate', detail: action, facts: { endAction: action } })) {
          deps.metrics.count('CaseTerminated');
          deps.log.info('case terminated', { invoiceId, customerId: ended.customerId, action });
        }
        await sendClosingEmail(deps, ended, 'termination', policyOf(deps, ended).end.notice, 'Terminate');
        return;
      }
    }
    throw error;
  }
  assertNotPaused(dunningCase, deps.clock.now());

  // The pay lock, as a charge takes it, held until the case is closed: a new card put in at this
  // moment (the customer fixing it at the last minute) is either charged before the check below
  // sees the invoice paid, or finds the case terminated. Never a charge and a cancellation both.
  const holder = 'Terminate';
  if (!(await deps.store.acquirePayLock(invoiceId, holder, deps.clock.now(), PAY_LOCK_MS))) {
    throw new PaymentInProgressError(`a charge of ${invoiceId} is under way; Terminate waits for it`);
  }
  let closed: DunningCase | undefined;
  let action: string;
  try {
    action = await endSubscription(deps, dunningCase, now);
    closed = await deps.store.closeCase(invoiceId, 'terminated', { now });
  } finally {
    await deps.store.releasePayLock(invoiceId, holder);
  }
  const current = closed ?? (await deps.store.getCase(invoiceId));
  if (current?.status !== 'terminated') throw new CaseClosedError(invoiceId, current?.status ?? 'missing');
  const recorded = await recordClose(deps, policyOf(deps, current), current, closed !== undefined, now, {
    type: 'terminated',
    stage: 'Terminate',
    detail: action,
    facts: { endAction: action },
  });
  if (recorded) {
    deps.metrics.count('CaseTerminated');
    deps.log.info('case terminated', { invoiceId, customerId: dunningCase.customerId, action });
  }
  await deps.store.clearBanner(current.customerId, invoiceId);
  await sendClosingEmail(deps, current, 'termination', policyOf(deps, current).end.notice, 'Terminate');
}

/** What tellSubscriptionEndedByStripe touches. */
export type TellSubscriptionEndedByStripeDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics', CaseClaims & Suppressions & Timeline>;

/**
 * Stripe cancelled the subscription itself because its own retries failed (an account left on
 * Stripe's default end of retries): the case was closed from outside, mid-policy, and the customer,
 * who has been told their subscription is at risk, is told it has ended, today. Claimed like
 * Terminate's email, so it goes out once, whichever closed the case.
 */
export async function tellSubscriptionEndedByStripe(deps: TellSubscriptionEndedByStripeDeps, dunningCase: DunningCase, endedAt: string): Promise<void> {
  await sendClosingEmail(deps, { ...dunningCase, terminatesAt: endedAt }, 'termination', policyOf(deps, dunningCase).end.notice, 'Terminate');
}

/** What endSubscription touches. */
type EndSubscriptionDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics', Cases & CaseClaims & Banners & Suppressions & Timeline, Invoices & Subscriptions>;

/**
 * Under the pay lock: asks Stripe whether the invoice was paid after all (a payment whose webhook is
 * late must not cost a subscription), then runs the policy's end action.
 */
async function endSubscription(deps: EndSubscriptionDeps, dunningCase: DunningCase, now: string): Promise<string> {
  const { invoiceId } = dunningCase;
  const invoice = await deps.stripe.getInvoice(invoiceId, { withSubscription: true });
  if (invoice.status === 'paid' && (await recoverCase(deps, invoiceId, howPaid(invoice))).recovered) {
    throw new CaseClosedError(invoiceId, 'recovered');
  }
  // Cancelled elsewhere (the customer, the merchant) with its webhook late: the customer ended it
  // and is told nothing by us, as when the webhook comes first. Our own cancel, seen by a retried
  // Terminate, is told apart by its comment and goes on to the end email.
  const ended = invoice.subscriptionStatus === 'canceled' || invoice.subscriptionStatus === 'incomplete_expired';
  if (ended && !invoice.subscriptionCanceledByDunning) {
    // No workflow in these deps: this Task is the execution's own, and stands down by the error.
    await closeFromOutside({ clock: deps.clock, log: deps.log, metrics: deps.metrics, store: deps.store }, dunningCase, CANCELED_IN_STRIPE, { byTerminate: true });
    throw new CaseClosedError(invoiceId, 'closed');
  }
  const key = stripeKey(dunningCase, 'Terminate');
  const policy = policyOf(deps, dunningCase);
  const { action, markUncollectible } = policy.end;
  switch (action) {
    case 'cancel_now':
      await deps.stripe.cancelSubscription(dunningCase.subscriptionId, key);
      break;
    case 'cancel_at_period_end':
      await deps.stripe.cancelSubscriptionAtPeriodEnd(dunningCase.subscriptionId, key);
      break;
    case 'pause_collection':
      await deps.stripe.pauseCollection(dunningCase.subscriptionId, key);
      break;
    case 'leave_past_due':
    case 'leave_unpaid':
      break; // the subscription is left to Stripe's own settings, or to you
  }
  if (markUncollectible) {
    for (const open of await openInvoicesOf(deps, dunningCase)) {
      await deps.stripe.markInvoiceUncollectible(open.id, `${key}:uncollectible:${open.id}`);
    }
  }
  await record(deps, invoiceId, 'end_action', {
    at: now,
    detail: `${action}${markUncollectible ? ' + invoice marked uncollectible' : ''} (${dunningCase.subscriptionId})`,
  });
  return action;
}

/**
 * A stage failed for good: hand the case to a person instead of letting it die silently. Only an
 * open case is flagged, once (true for the call that flagged it); `state` is the state that failed.
 */
export async function flagCase(
  deps: Uses<'clock' | 'log' | 'metrics', Cases & Timeline>,
  invoiceId: string,
  error: { name: string; message: string },
  state?: string,
): Promise<boolean> {
  const now = deps.clock.now().toISOString();
  const closed = await deps.store.closeCase(invoiceId, 'needs_attention', { now, error });
  const flagged = closed ?? (await deps.store.getCase(invoiceId));
  if (!flagged) throw new CaseNotFoundError(invoiceId);
  // Each flagging is its own (a redriven case may be flagged again): keyed by when it happened. A
  // flag whose call died before its entry (flag-case is retried) is recorded by the retry.
  const key = `flagged/${flagged.closedAt ?? now}`;
  const at = closed ? now : (flagged.closedAt ?? now);
  const recordedError = closed ? error : (flagged.error ?? error);
  const wrote =
    (closed !== undefined || flagged.status === 'needs_attention') &&
    (await writeOnce(deps, flagged, key, closed !== undefined, () =>
      record(deps, invoiceId, 'flagged', {
        at,
        eventKey: key,
        ...(state ? { stage: state } : {}),
        detail: `${state ? `${state} failed: ` : ''}${recordedError.name}: ${recordedError.message}`.slice(0, 500),
        facts: { errorName: recordedError.name },
      }),
    ));
  if (!wrote) {
    deps.log.info('case already closed; not flagged', { invoiceId, status: flagged.status });
    return false;
  }
  deps.metrics.count('NeedsAttention');
  deps.log.error('case needs attention', { invoiceId, customerId: flagged.customerId, state, error: recordedError });
  return true;
}

async function sendClosingEmail(
  deps: Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics', CaseClaims & Suppressions & Timeline>,
  dunningCase: DunningCase,
  kind: 'confirmation' | 'termination',
  copy: NoticeSpec,
  stage: string,
): Promise<void> {
  const now = deps.clock.now().toISOString();
  if (!(await deps.store.claimClosingEmail(dunningCase.invoiceId, kind, now))) return;
  const rendered = renderNotice(copy, { policy: policyOf(deps, dunningCase), dunningCase });
  // A send that failed gives the claim back, so the retry (state machine, or Stripe redelivering
  // the webhook) sends it; a failure after SES took the email keeps it, so nothing is sent twice.
  const outcome = await sendCaseEmail(deps, dunningCase, stage, rendered, () =>
    deps.store.releaseClosingEmail(dunningCase.invoiceId, kind),
  );
  if (outcome === 'sent' && kind === 'confirmation') {
    await record(deps, dunningCase.invoiceId, 'confirmation_sent', { at: now, stage });
  }
}
