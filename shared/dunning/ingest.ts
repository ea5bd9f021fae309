// Routes one verified Stripe event: a failed renewal opens a case and starts its execution; a paid
// invoice closes its case at once and stops the execution; a new card is charged at once; a case
// ended outside is closed. The types handled are HANDLED_EVENT_TYPES (handled-events.ts); everything
// else is acknowledged and ignored.
import type { Banners, CardBlocks, CaseClaims, CaseQueries, Cases, Customers, HeadsUps, Invoices, Subscriptions, Suppressions, Timeline } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { addDays } from '../domain/format.ts';
import { CaseClosedError, CasePausedError, InvalidInputError } from '../domain/errors.ts';
import { pausedUntil } from './pause.ts';
import { renderNotice } from '../notices/render.ts';
import { ACTION_REQUIRED_STAGE, bannerOf } from './banner.ts';
import { chargeAfterCardUpdate } from './card-update.ts';
import { AUTHENTICATION_REQUIRED, blockingCode, describeFailure, reissueClears } from './declines.ts';
import { PAYMENT_METHOD_DETACHED, type PaymentFailure } from '../domain/ports.ts';
import { sendCaseEmail } from './emails.ts';
import { recoverCase, tellSubscriptionEndedByStripe } from './close.ts';
import { howPaid } from './paid-by.ts';
import { closeFromOutside } from './outside.ts';
import { cancelHeadsUp, headsUpForExpiringSource, headsUpForUpcomingInvoice, PRE_DUNNING_STAGE, type PreDunningResult } from './pre-dunning.ts';
import { runNoticeStage } from './stages.ts';
import { policyNamed, policyOf, type Uses } from './deps.ts';
import { alsoNotifyOnOpen } from './also-notify.ts';
import { choosePolicy, DEFAULT_POLICY_NAME, hasSegments } from '../policy/segments.ts';
import { dunningEligibility, parseInvoice, type StripeEventEnvelope } from './invoice-event.ts';

export type IngestResult =
  | { action: 'invoice_joined'; invoiceId: string; caseInvoiceId: string }
  | { action: 'invoice_paid_partially'; invoiceId: string; caseInvoiceId: string }
  | { action: 'action_required_notified'; invoiceId: string; notice: 'sent' | 'undeliverable' | 'already_sent' }
  | { action: 'notice_sent'; invoiceId: string; stage: string; outcome: 'sent' | 'undeliverable' | 'already_sent' }
  | { action: 'card_update_retried'; outcomes: Array<{ invoiceId: string; outcome: string }> }
  | { action: 'card_removed'; paymentMethod: string; invoiceIds: string[] }
  | { action: 'case_closed'; invoiceIds: string[]; reason: string }
  | { action: 'case_opened'; invoiceId: string; executionArn: string }
  | { action: 'case_exists'; invoiceId: string; status: DunningCase['status'] }
  | { action: 'case_recovered'; invoiceId: string }
  | { action: 'ignored'; reason: string }
  | Exclude<PreDunningResult, { action: 'ignored' }>;

export interface IngestOptions {
  /** Who sent the event again on purpose (the operator CLI's `replay`), rather than Stripe delivering it. */
  replayedBy?: 'operator';
}

/** What ingestStripeEvent touches. */
export type IngestStripeEventDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'log' | 'metrics' | 'workflow' | 'livemode', Cases & CaseQueries & CardBlocks & CaseClaims & Banners & Suppressions & HeadsUps & Timeline, Invoices & Subscriptions & Customers>;

export async function ingestStripeEvent(deps: IngestStripeEventDeps, event: StripeEventEnvelope, options: IngestOptions = {}): Promise<IngestResult> {
  const receivedAt = deps.clock.now().toISOString();
  const result = await route(deps, event);
  // On each case the event acted on, a line saying which event it was: the operator's `case` view
  // shows what came in from Stripe beside what the product did about it. A replay is told apart, so
  // an event seen twice reads as an operator's act, not as Stripe delivering it again.
  const entry = options.replayedBy
    ? { type: 'event_replayed' as const, detail: `${event.type} (replayed by ${options.replayedBy})` }
    : { type: 'event_received' as const, detail: event.type };
  for (const invoiceId of casesActedOn(result)) {
    await deps.store.appendTimeline(invoiceId, { at: receivedAt, ...entry, eventId: event.id });
  }
  return result;
}

/** The cases a routing result touched; none for an ignored event. */
function casesActedOn(result: IngestResult): string[] {
  switch (result.action) {
    case 'ignored':
      return [];
    case 'card_update_retried':
      return result.outcomes.map((o) => o.invoiceId);
    case 'case_closed':
    case 'card_removed':
      return result.invoiceIds;
    case 'invoice_joined':
    case 'invoice_paid_partially':
      return [result.caseInvoiceId];
    default:
      return 'invoiceId' in result && typeof result.invoiceId === 'string' && result.invoiceId.startsWith('in_') ? [result.invoiceId] : [];
  }
}

/** What route touches. */
type RouteDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'log' | 'metrics' | 'workflow' | 'livemode', Cases & CaseQueries & CardBlocks & CaseClaims & Banners & Suppressions & HeadsUps & Timeline, Invoices & Subscriptions & Customers>;

async function route(deps: RouteDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  if (event.livemode !== deps.livemode) {
    // A test-mode event must never dun a live customer, nor the reverse.
    return ignore(deps, event, `livemode ${event.livemode} does not match this deployment's ${deps.livemode ? 'live' : 'test'} key`);
  }
  switch (event.type) {
    case 'invoice.payment_failed':
      return openCase(deps, event);
    case 'invoice.paid':
      return closePaidCase(deps, event);
    case 'invoice.payment_action_required':
      return askForAuthentication(deps, event);
    case 'invoice.voided':
      return closeInvoiceCase(deps, event, 'invoice voided in Stripe');
    case 'invoice.marked_uncollectible':
      return closeInvoiceCase(deps, event, 'invoice marked uncollectible in Stripe');
    case 'customer.subscription.updated':
      return subscriptionUpdated(deps, event);
    case 'customer.subscription.deleted': {
      const subscription = parseRef(event, 'sub_');
      const cases = (await deps.store.listCasesOfCustomer(subscription.customer)).filter((c) => c.subscriptionId === subscription.id);
      if (canceledForFailedPayment(event)) return closeCasesEndedByStripe(deps, event, cases);
      return closeCases(deps, event, cases, CANCELED_IN_STRIPE);
    }
    case 'customer.updated': {
      const customer = parseRef(event, 'cus_');
      const before = event.data.previous_attributes?.invoice_settings as Record<string, unknown> | undefined;
      if (!before || !('default_payment_method' in before)) return ignore(deps, event, 'the default payment method did not change');
      // The default went and none took its place: the customer removed their card. Stripe says so
      // with payment_method.detached; should a customer.updated come, it is the same removal.
      const now = (event.data.object as { invoice_settings?: { default_payment_method?: unknown } }).invoice_settings?.default_payment_method;
      const removed = refId(before.default_payment_method);
      if ((now === null || now === undefined) && removed) return cardRemoved(deps, event, customer.id, removed, false);
      return cardUpdated(deps, event, customer.id);
    }
    case 'payment_method.attached': {
      const method = event.data.object as { id?: unknown; customer?: unknown };
      if (typeof method.customer !== 'string' || typeof method.id !== 'string') {
        throw new InvalidInputError(`event ${event.id}: data.object is not a payment method attached to a customer`);
      }
      return cardUpdated(deps, event, method.customer, method.id);
    }
    case 'payment_method.detached': {
      // The card has left its customer: data.object.customer is null, and the customer it left is in
      // previous_attributes (docs.stripe.com/api/events/types#event_types-payment_method.detached).
      const method = event.data.object as { id?: unknown };
      const customer = event.data.previous_attributes?.customer;
      if (typeof method.id !== 'string' || typeof customer !== 'string') {
        throw new InvalidInputError(`event ${event.id}: data is not a payment method detached from a customer`);
      }
      return cardRemoved(deps, event, customer, method.id, true);
    }
    case 'setup_intent.succeeded': {
      const intent = event.data.object as { customer?: unknown; payment_method?: unknown };
      // A setup without a customer saves no card anyone could charge for a case.
      if (intent.customer === null) return ignore(deps, event, 'setup intent without a customer');
      if (typeof intent.customer !== 'string') throw new InvalidInputError(`event ${event.id}: data.object is not a setup intent`);
      return cardUpdated(deps, event, intent.customer, typeof intent.payment_method === 'string' ? intent.payment_method : undefined);
    }
    case 'invoice.upcoming':
      return headsUpForUpcomingInvoice(deps, event);
    case 'customer.source.expiring':
      return headsUpForExpiringSource(deps, event);
    case 'payment_method.automatically_updated':
    // Its name on webhook endpoints pinned to an API version before 2020-08-27.
    case 'payment_method.card_automatically_updated':
      return cardRenewedByStripe(deps, event);
    case 'customer.deleted': {
      const customer = parseRef(event, 'cus_');
      return closeCases(deps, event, await deps.store.listCasesOfCustomer(customer.id), 'customer deleted in Stripe');
    }
    default:
      return ignore(deps, event, `event type ${event.type} is not handled`);
  }
}

/** What openCase touches. */
type OpenCaseDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'log' | 'metrics' | 'workflow', Cases & CaseQueries & CardBlocks & CaseClaims & Banners & Suppressions & Timeline, Invoices & Customers>;

async function openCase(deps: OpenCaseDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const invoice = parseInvoice(event.data.object, event.id);
  const eligibility = dunningEligibility(invoice);
  if (!eligibility.eligible) return ignore(deps, event, eligibility.reason, invoice.id);

  const existing = await deps.store.findCaseOfInvoice(invoice.id);
  if (existing && (existing.status !== 'open' || existing.executionArn || existing.invoiceId !== invoice.id)) {
    // A duplicate, a replay of an old event, a manual attempt, or Stripe's own later attempt: the
    // case already runs. Only Stripe's own attempt (Smart Retries, a custom schedule) counts: its
    // event names no request. A manual attempt (our own charge, with our idempotency key, or the
    // customer's on the hosted invoice page) fails with the attempt_count Stripe's last attempt left,
    // since Stripe counts only its own retries (docs.stripe.com/api/invoices/object#invoice_object-attempt_count).
    const ours = event.request?.idempotency_key?.startsWith('dunning:') ?? false;
    const stripesOwn = !ours && !event.request?.id;
    const attempt = invoice.attempt_count ?? 1;
    if (existing.status === 'open' && attempt > 1 && stripesOwn) {
      const followed = await followStripeAttempt(deps, existing, invoice.id, attempt);
      if (followed) return followed;
    }
    deps.log.info('case already exists', { invoiceId: invoice.id, eventId: event.id, status: existing.status });
    return { action: 'case_exists', invoiceId: existing.invoiceId, status: existing.status };
  }

  // Events arrive in no guaranteed order: decide by the invoice as Stripe holds it now, not by the
  // event's snapshot, so a failure delivered after the payment opens nothing. The same read says
  // why the renewal's own attempt failed, which decides whether its card may be tried again.
  const current = await deps.stripe.getInvoice(invoice.id, { withPaymentError: true });
  if (current.status !== 'open' || current.amountRemaining <= 0) {
    return ignore(deps, event, `the invoice is ${current.status} in Stripe now; the event is stale`, invoice.id);
  }

  const now = deps.clock.now().toISOString();
  if (!existing) {
    // One sequence per subscription: a later invoice that fails while a case is open joins it.
    const sibling = (await deps.store.listCasesOfCustomer(invoice.customer)).find(
      (c) => c.subscriptionId === eligibility.subscriptionId && c.status === 'open' && c.invoiceId !== invoice.id,
    );
    if (sibling && (await deps.store.joinInvoice(sibling.invoiceId, invoice.id, current.amountRemaining, now))) {
      await deps.store.appendTimeline(sibling.invoiceId, { at: now, type: 'invoice_joined', detail: invoice.id });
      deps.log.info('invoice joined the open case of its subscription', { invoiceId: invoice.id, caseInvoiceId: sibling.invoiceId, eventId: event.id });
      return { action: 'invoice_joined', invoiceId: invoice.id, caseInvoiceId: sibling.invoiceId };
    }
  }
  let dunningCase = existing;
  if (!dunningCase) {
    // Business dates count from Stripe's clock (a test clock's frozen time, locally), not ours.
    const failedAt = new Date(event.created * 1000).toISOString();
    const preferences = await deps.stripe.getCustomerPreferences(invoice.customer);
    // The policy is chosen once, here, by the plan as Stripe holds it now; the case keeps it.
    const policyName =
      deps.policies && hasSegments(deps.policies)
        ? choosePolicy(deps.policies, await deps.stripe.getInvoicePlan(invoice.id, eligibility.subscriptionId))
        : DEFAULT_POLICY_NAME;
    const policy = policyNamed(deps, policyName, invoice.id);
    const candidate: DunningCase = {
      invoiceId: invoice.id,
      customerId: invoice.customer,
      subscriptionId: eligibility.subscriptionId,
      status: 'open',
      policy: policyName,
      amountDue: { amount: current.amountRemaining, currency: current.amountDue.currency },
      invoiceNumber: invoice.number ?? undefined,
      hostedInvoiceUrl: invoice.hosted_invoice_url ?? undefined,
      customerEmail: invoice.customer_email ?? undefined,
      customerName: invoice.customer_name ?? undefined,
      customerLocale: preferences.locale,
      customerTimeZone: preferences.timeZone,
      livemode: invoice.livemode,
      failedAt,
      terminatesAt: addDays(failedAt, policy.end.day),
      executionName: invoice.id,
      noticesSent: [],
      createdAt: now,
      updatedAt: now,
    };
    const created = await deps.store.createCase(candidate);
    dunningCase = created.case;
    if (created.created) {
      const failure = current.lastPaymentError;
      await deps.store.appendTimeline(invoice.id, {
        at: now,
        type: 'case_opened',
        detail: `attempt ${invoice.attempt_count ?? 1} failed${failure ? ` (${describeFailure(failure)})` : ''}; policy ${policyName}`,
      });
      deps.metrics.count('CaseOpened');
    }
  }
  // Also on a redelivery after a crash here: the block is a plain write.
  dunningCase = await blockOpeningCard(deps, dunningCase, current.lastPaymentError, now);
  // Before the start: a redelivery after a failed send finds no execution yet and gets here again.
  if (deps.policies) await alsoNotifyOnOpen(deps, deps.policies, dunningCase);

  // Also reached when an earlier delivery crashed between creating the case and starting the
  // execution: the start is idempotent by name, so finishing the job here is always safe.
  const { executionArn } = await deps.workflow.start(dunningCase.executionName, {
    invoiceId: invoice.id,
    policy: dunningCase.policy ?? DEFAULT_POLICY_NAME,
  });
  await deps.store.setExecutionArn(invoice.id, executionArn, now);
  await deps.store.appendTimeline(invoice.id, { at: now, type: 'execution_started', detail: dunningCase.executionName });
  deps.log.info('case opened', { invoiceId: invoice.id, eventId: event.id, executionName: dunningCase.executionName });
  return { action: 'case_opened', invoiceId: invoice.id, executionArn };
}

/**
 * The renewal's own attempt decides, not only ours: a card that hard-declined there (lost, stolen,
 * fraudulent…), that needs the customer to authenticate, or that the issuer advised not to try
 * again, is blocked as the case opens, so no retry stage charges it. A new card is still charged.
 */
async function blockOpeningCard(deps: Uses<'log', CardBlocks & Timeline>, dunningCase: DunningCase, failure: PaymentFailure | undefined, now: string): Promise<DunningCase> {
  const code = failure && blockingCode(failure);
  const card = failure?.paymentMethod;
  if (!code || !card || dunningCase.blockedPaymentMethod || dunningCase.status !== 'open') return dunningCase;
  const block = { id: card, code, at: now };
  await deps.store.blockPaymentMethod(dunningCase.invoiceId, block);
  await deps.store.appendTimeline(dunningCase.invoiceId, {
    at: now,
    type: 'card_blocked',
    detail: `${card}: ${describeFailure(failure)} on the renewal's own attempt`,
  });
  deps.log.info('card blocked by the decline that opened the case', { invoiceId: dunningCase.invoiceId, code });
  return { ...dunningCase, blockedPaymentMethod: block };
}

/** What followStripeAttempt touches. */
type FollowStripeAttemptDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'log' | 'metrics', Cases & CaseClaims & Banners & Suppressions & Timeline, Invoices>;

/**
 * Stripe's own attempt `attempt` at `invoiceId` failed: recorded on the case once per attempt number
 * (a claim among the case's `noticesSent`, like an `alsoNotify` rule's), however many deliveries of it
 * arrive, and under `retries: "stripe"` followed by its notice. A notice that could not be sent gives
 * the claim back, so the redelivered event tries again.
 */
async function followStripeAttempt(deps: FollowStripeAttemptDeps, dunningCase: DunningCase, invoiceId: string, attempt: number): Promise<IngestResult | undefined> {
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
  await deps.store.appendTimeline(dunningCase.invoiceId, { at: now, type: 'stripe_attempt_failed', detail: `${invoiceId} attempt ${attempt}` });
  if (policyOf(deps, dunningCase).retries !== 'stripe') return undefined;
  try {
    return await noticeAfterStripeAttempt(deps, dunningCase, attempt);
  } catch (error) {
    await deps.store.releaseStageEmail(dunningCase.invoiceId, claim, now);
    throw error;
  }
}

/** `StripeAttempt2`, or `StripeAttempt2:in_…` for a later invoice that joined the case. */
function stripeAttemptClaim(dunningCase: DunningCase, invoiceId: string, attempt: number): string {
  return invoiceId === dunningCase.invoiceId ? `StripeAttempt${attempt}` : `StripeAttempt${attempt}:${invoiceId}`;
}

/** What noticeAfterStripeAttempt touches. */
type NoticeAfterStripeAttemptDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'log' | 'metrics', Cases & CaseClaims & Banners & Suppressions & Timeline, Invoices>;

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
    const { outcome } = await runNoticeStage(deps, dunningCase.invoiceId, due.id, dunningCase.policy ?? DEFAULT_POLICY_NAME);
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

/** What askForAuthentication touches. */
type AskForAuthenticationDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'log' | 'metrics' | 'workflow', Cases & CaseQueries & CardBlocks & CaseClaims & Banners & Suppressions & Timeline, Invoices & Customers>;

/**
 * The bank wants the customer to authenticate (3-D Secure). Off-session retries of that card cannot
 * succeed, so it is blocked, and the customer is sent, once, a notice linking the invoice's hosted
 * page, where they can confirm the payment.
 */
async function askForAuthentication(deps: AskForAuthenticationDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const opened = await openCase(deps, event);
  if (opened.action === 'ignored') return opened;
  const invoice = parseInvoice(event.data.object, event.id);
  const dunningCase = await deps.store.getCase(invoice.id);
  if (!dunningCase || dunningCase.status !== 'open') return { action: 'case_exists', invoiceId: invoice.id, status: dunningCase?.status ?? 'open' };

  const now = deps.clock.now().toISOString();
  const card = await deps.stripe.getDefaultPaymentMethod(dunningCase.customerId, dunningCase.subscriptionId);
  if (card && dunningCase.blockedPaymentMethod?.id !== card) {
    await deps.store.blockPaymentMethod(invoice.id, { id: card, code: AUTHENTICATION_REQUIRED, at: now });
  }
  if (pausedUntil(dunningCase, deps.clock.now())) {
    // The card is blocked all the same; the invoice page stays where the customer can confirm.
    await deps.store.appendTimeline(invoice.id, { at: now, type: 'notice_undeliverable', stage: 'ActionRequired', detail: 'not sent: case paused by operator' });
    return { action: 'case_exists', invoiceId: invoice.id, status: dunningCase.status };
  }
  const policy = policyOf(deps, dunningCase);
  const rendered = renderNotice(policy.actionRequired.notice, { policy, dunningCase });
  if (!(await deps.store.claimStageEmail(invoice.id, 'ActionRequired', now))) {
    return { action: 'action_required_notified', invoiceId: invoice.id, notice: 'already_sent' };
  }
  const banner = bannerOf(policy, dunningCase, ACTION_REQUIRED_STAGE, rendered, dunningCase.hostedInvoiceUrl ?? policy.brand.myAccountUrl, now);
  if (banner) await deps.store.putBanner(banner);
  const notice = await sendCaseEmail(deps, dunningCase, 'ActionRequired', rendered, () =>
    deps.store.releaseStageEmail(invoice.id, 'ActionRequired', now),
  );
  return { action: 'action_required_notified', invoiceId: invoice.id, notice };
}

/** What closePaidCase touches. */
type ClosePaidCaseDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics' | 'workflow', Cases & CaseClaims & Banners & Suppressions & Timeline, Invoices>;

async function closePaidCase(deps: ClosePaidCaseDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const invoice = parseInvoice(event.data.object, event.id);
  const existing = await deps.store.findCaseOfInvoice(invoice.id);
  if (!existing) return ignore(deps, event, 'no dunning case for this invoice', invoice.id);
  const caseInvoiceId = existing.invoiceId;
  // How it was paid: Stripe's own retry, the customer on the hosted page, out of band, or ours.
  const paidBy = howPaid(await deps.stripe.getInvoice(invoice.id, { expectPaid: true }), event.request);

  // Close first: from this write on, every stage that checks the case stands down.
  const result = await recoverCase(deps, caseInvoiceId, paidBy);
  if (!result.recovered) {
    if (result.status === 'open' || result.status === 'needs_attention') {
      // Another invoice of the case is still open: the sequence goes on for what is still owed.
      return { action: 'invoice_paid_partially', invoiceId: invoice.id, caseInvoiceId };
    }
    return ignore(deps, event, `case is ${result.status}`, invoice.id);
  }
  if (!result.closedNow) {
    // A stage saw the payment before this event did and could only record `invoice_paid`.
    if (paidBy !== 'invoice_paid') await deps.store.refineRecoveredBy(caseInvoiceId, paidBy, deps.clock.now().toISOString());
    // Our own retry was paid first; its execution is finishing the recovery itself.
    return { action: 'case_exists', invoiceId: caseInvoiceId, status: 'recovered' };
  }
  await stopExecution(deps, existing, `invoice ${invoice.id} paid (${event.id})`, event.type);
  deps.log.info('case recovered by invoice.paid', { invoiceId: caseInvoiceId, eventId: event.id, recoveredBy: paidBy });
  return { action: 'case_recovered', invoiceId: caseInvoiceId };
}

async function stopExecution(deps: Uses<'clock' | 'workflow', Timeline>, dunningCase: DunningCase, cause: string, eventType: string): Promise<void> {
  if (!dunningCase.executionArn) return;
  await deps.workflow.stop(dunningCase.executionArn, cause);
  await deps.store.appendTimeline(dunningCase.invoiceId, { at: deps.clock.now().toISOString(), type: 'execution_stopped', detail: eventType });
}

/** What subscriptionUpdated touches. */
type SubscriptionUpdatedDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics' | 'workflow', Cases & CaseQueries & CaseClaims & Banners & Suppressions & Timeline, Invoices & Subscriptions>;

/**
 * Subscription updates arrive in any order, and a late one carries a stale status: so the event only
 * says "look again", and Stripe's current state decides. Canceled elsewhere closes the case (its
 * own `customer.subscription.deleted` may be lost); a case whose invoice Stripe holds as paid is
 * recovered (its `invoice.paid` may be late); anything else changes nothing.
 */
async function subscriptionUpdated(deps: SubscriptionUpdatedDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const subscription = parseRef(event, 'sub_');
  const cases = (await deps.store.listCasesOfCustomer(subscription.customer)).filter(
    (c) => c.subscriptionId === subscription.id && (c.status === 'open' || c.status === 'needs_attention'),
  );
  if (cases.length === 0) return ignore(deps, event, 'no open case for this subscription');

  const status = await deps.stripe.getSubscriptionStatus(subscription.id);
  if (status === 'canceled' || status === 'incomplete_expired') {
    return closeCases(deps, event, cases, CANCELED_IN_STRIPE);
  }
  const recovered: string[] = [];
  for (const c of cases) {
    const invoice = await deps.stripe.getInvoice(c.invoiceId);
    if (invoice.status !== 'paid') continue;
    const result = await recoverCase(deps, c.invoiceId, howPaid(invoice));
    if (!result.closedNow) continue;
    await stopExecution(deps, c, `invoice ${c.invoiceId} paid (seen on ${event.id})`, event.type);
    recovered.push(c.invoiceId);
  }
  if (recovered.length > 0) {
    deps.log.info('case recovered: its invoice was paid, seen on a subscription update', { eventId: event.id, invoiceIds: recovered });
    return { action: 'case_recovered', invoiceId: recovered[0]! };
  }
  return ignore(deps, event, `subscription is ${status} in Stripe; its case goes on`);
}

/** What cardUpdated touches. */
type CardUpdatedDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics' | 'workflow', Cases & CaseQueries & CardBlocks & CaseClaims & Banners & Suppressions & Timeline, Invoices & Customers>;

async function cardUpdated(deps: CardUpdatedDeps, event: StripeEventEnvelope, customerId: string, paymentMethod?: string): Promise<IngestResult> {
  // A new card answers a pre-dunning heads-up: its banner has said what it had to.
  const banner = await deps.store.getBanner(customerId);
  if (banner?.stage === PRE_DUNNING_STAGE) await deps.store.clearBanner(customerId, banner.invoiceId);
  const outcomes = await chargeAfterCardUpdate(deps, event, customerId, paymentMethod);
  if (outcomes.length === 0) return ignore(deps, event, 'the customer has no open case');
  return { action: 'card_update_retried', outcomes };
}

/** What cardRemoved touches. */
type CardRemovedDeps = Uses<'clock' | 'log' | 'metrics', Cases & CaseQueries & CardBlocks & Timeline>;

/**
 * The customer removed a card. Nothing is charged: a removal is no new card. Each unpaid case of the
 * customer records it, and a detached card, which can never pay again
 * (docs.stripe.com/api/payment_methods/detach), is blocked on a case that has no other block, so no
 * charge of the case asks Stripe to take it (an invoice may still name it). The charges that follow
 * take the card Stripe would charge now, or find none and say so (`no_payment_method`).
 */
async function cardRemoved(deps: CardRemovedDeps, event: StripeEventEnvelope, customerId: string, paymentMethod: string, detached: boolean): Promise<IngestResult> {
  const unpaid = (c: DunningCase | undefined): c is DunningCase => c?.status === 'open' || c?.status === 'needs_attention';
  const recorded: string[] = [];
  for (const entry of (await deps.store.listCasesOfCustomer(customerId)).filter(unpaid)) {
    // The customer index lags writes: only the case as it is now.
    const c = await deps.store.getCase(entry.invoiceId);
    if (!unpaid(c)) continue;
    const at = deps.clock.now().toISOString();
    // A block on another card stays: that card is still there, and still must not be charged.
    if (detached && !c.blockedPaymentMethod) await deps.store.blockPaymentMethod(c.invoiceId, { id: paymentMethod, code: PAYMENT_METHOD_DETACHED, at });
    await deps.store.appendTimeline(c.invoiceId, { at, type: 'card_removed', detail: `${paymentMethod}: ${event.type}` });
    recorded.push(c.invoiceId);
  }
  if (recorded.length === 0) return ignore(deps, event, 'the customer has no open case');
  deps.log.info('card removed', { eventId: event.id, customerId, invoiceIds: recorded, detached });
  return { action: 'card_removed', paymentMethod, invoiceIds: recorded };
}

/** An expandable reference's id. */
function refId(ref: unknown): string | undefined {
  if (typeof ref === 'string') return ref;
  return ref && typeof ref === 'object' && typeof (ref as { id?: unknown }).id === 'string' ? (ref as { id: string }).id : undefined;
}

/** What cardRenewedByStripe touches. */
type CardRenewedByStripeDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics' | 'workflow', Cases & CaseQueries & CardBlocks & CaseClaims & Banners & Suppressions & HeadsUps & Timeline, Invoices & Customers>;

/**
 * Stripe's card account updater renewed a card in place. Before a failure it answers the heads-up;
 * with a case open, a renewed card the case is charged with is as good as a new one: retry at once.
 */
async function cardRenewedByStripe(deps: CardRenewedByStripeDeps, event: StripeEventEnvelope): Promise<IngestResult> {
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

async function closeInvoiceCase(deps: Uses<'clock' | 'log' | 'metrics', Cases & Banners & Timeline>, event: StripeEventEnvelope, reason: string): Promise<IngestResult> {
  const invoice = parseInvoice(event.data.object, event.id);
  const existing = await deps.store.getCase(invoice.id);
  return closeCases(deps, event, existing ? [existing] : [], reason);
}

async function closeCases(deps: Uses<'clock' | 'log' | 'metrics', Cases & Banners & Timeline>, event: StripeEventEnvelope, cases: DunningCase[], reason: string): Promise<IngestResult> {
  const closed: string[] = [];
  for (const c of cases) {
    if (await closeFromOutside(deps, c, reason)) closed.push(c.invoiceId);
  }
  if (closed.length === 0) return ignore(deps, event, `no open case to close (${reason})`);
  deps.log.info('cases closed from outside', { eventId: event.id, invoiceIds: closed, reason });
  return { action: 'case_closed', invoiceIds: closed, reason };
}

const CANCELED_IN_STRIPE = 'subscription canceled in Stripe';
const CANCELED_BY_STRIPE_RETRIES = 'subscription canceled by Stripe after its retries failed';

/**
 * Stripe cancelled the subscription because payment failed: its own end of retries, on an account
 * left on Stripe's default ("Manage failed payments": cancel the subscription). Its
 * `cancellation_details.reason` says so: `payment_failed`.
 */
function canceledForFailedPayment(event: StripeEventEnvelope): boolean {
  const details = (event.data.object as { cancellation_details?: { reason?: unknown } | null }).cancellation_details;
  return details?.reason === 'payment_failed';
}

/** What closeCasesEndedByStripe touches. */
type CloseCasesEndedByStripeDeps = Uses<'policy' | 'policies' | 'mailer' | 'clock' | 'log' | 'metrics', Cases & CaseClaims & Banners & Suppressions & Timeline>;

/**
 * Stripe ended the subscription mid-policy for the same failed payment the case is about. The case
 * closes as any case ended outside does (no more notices, no charge), and the customer, told so far
 * that their subscription is at risk, is told it has ended (the policy's end email), once. A case
 * already closed because the subscription was seen canceled (a `customer.subscription.updated` read
 * first) is told too, and a redelivery after a failed send tries again.
 */
async function closeCasesEndedByStripe(deps: CloseCasesEndedByStripeDeps, event: StripeEventEnvelope, cases: DunningCase[]): Promise<IngestResult> {
  const closed: string[] = [];
  const told: string[] = [];
  const endedAt = new Date(event.created * 1000).toISOString();
  for (const c of cases) {
    const closedNow = await closeFromOutside(deps, c, CANCELED_BY_STRIPE_RETRIES);
    const current = closedNow ? await deps.store.getCase(c.invoiceId) : c;
    const endedHere = current?.status === 'closed' && (current.closedReason === CANCELED_BY_STRIPE_RETRIES || current.closedReason === CANCELED_IN_STRIPE);
    if (!current || !endedHere) continue;
    if (closedNow) closed.push(c.invoiceId);
    if (pausedUntil(current, deps.clock.now())) continue;
    await tellSubscriptionEndedByStripe(deps, current, endedAt);
    told.push(c.invoiceId);
  }
  if (closed.length === 0 && told.length === 0) return ignore(deps, event, `no open case to close (${CANCELED_BY_STRIPE_RETRIES})`);
  deps.log.info('cases closed: Stripe canceled the subscription after its retries', { eventId: event.id, invoiceIds: closed, told });
  return { action: 'case_closed', invoiceIds: closed.length > 0 ? closed : told, reason: CANCELED_BY_STRIPE_RETRIES };
}

/** The id (and customer, for a subscription) of an event's object, validated. */
function parseRef(event: StripeEventEnvelope, prefix: 'sub_' | 'cus_'): { id: string; customer: string } {
  const object = event.data.object as { id?: unknown; customer?: unknown };
  const id = typeof object.id === 'string' && object.id.startsWith(prefix) ? object.id : undefined;
  const customer = prefix === 'cus_' ? id : typeof object.customer === 'string' ? object.customer : (object.customer as { id?: string } | null)?.id;
  if (!id || !customer) throw new InvalidInputError(`event ${event.id}: data.object is not a ${prefix === 'sub_' ? 'subscription' : 'customer'} with an id`);
  return { id, customer };
}

function ignore(deps: Uses<'log' | 'metrics'>, event: StripeEventEnvelope, reason: string, invoiceId?: string): IngestResult {
  deps.log.info('event ignored', { eventId: event.id, type: event.type, invoiceId, reason });
  deps.metrics.count('EventIgnored');
  return { action: 'ignored', reason };
}
