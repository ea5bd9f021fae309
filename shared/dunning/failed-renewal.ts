// invoice.payment_failed: a failed renewal opens a case and starts its execution, or joins the open
// case of its subscription; a failure of an invoice whose case already runs is Stripe's own attempt
// (stripe-attempt.ts) or a duplicate.
import type { AccessRecords, Banners, CardBlocks, RetryLedger, CaseClaims, CaseQueries, Cases, CustomerPreferences, Customers, Invoices, InvoiceSnapshot, PaymentFailure, Suppressions, Timeline } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import { addDays } from '../domain/format.ts';
import type { Policy } from '../policy/schema.ts';
import { choosePolicy, DEFAULT_POLICY_NAME, hasSegments } from '../policy/segments.ts';
import { alsoNotifyOnOpen } from './also-notify.ts';
import { blockingCode, describeFailure } from './declines.ts';
import { policyNamed, policyOf, type Uses } from './deps.ts';
import { ignore, type IngestResult } from './ingest-result.ts';
import { dunningEligibility, parseInvoice, type StripeEventEnvelope, type StripeInvoice } from './invoice-event.ts';
import { followStripeAttempt } from './stripe-attempt.ts';
import { record, writeOnce } from './timeline.ts';
import { accessAtFailure, OPEN_ACCESS_EVENT_KEY, recordAccessAtOpen } from './access-changes.ts';
import { scheduleAnchor, stripeDecline, withAttempt } from './retry-plan.ts';

/** What openCase touches. */
export type OpenCaseDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'caseClock' | 'log' | 'metrics' | 'workflow', Cases & CaseQueries & CardBlocks & RetryLedger & CaseClaims & Banners & Suppressions & AccessRecords & Timeline, Invoices & Customers>;

export async function openCase(deps: OpenCaseDeps, event: StripeEventEnvelope): Promise<IngestResult> {
  const invoice = parseInvoice(event.data.object, event.id);
  const eligibility = dunningEligibility(invoice);
  if (!eligibility.eligible) return ignore(deps, event, eligibility.reason, invoice.id);
  const { subscriptionId } = eligibility;

  const existing = await deps.store.findCaseOfInvoice(invoice.id);
  if (existing && (existing.status !== 'open' || existing.executionArn || existing.invoiceId !== invoice.id)) {
    return caseAlreadyRuns(deps, event, invoice, existing);
  }

  // Events arrive in no guaranteed order: decide by the invoice as Stripe holds it now, not by the
  // event's snapshot, so a failure delivered after the payment opens nothing. The same read says
  // why the renewal's own attempt failed, which decides whether its card may be tried again (the
  // event's invoice does not carry it), and brings what the case keeps for its life: the
  // customer's locale and zone, and the plan its policy is chosen by. The case's one Stripe read.
  const current = await deps.stripe.getInvoice(invoice.id, {
    withPaymentError: true,
    withCustomer: !existing,
    withPlan: !existing && !!deps.policies && hasSegments(deps.policies),
  });
  if (current.status !== 'open' || current.amountRemaining <= 0) {
    return ignore(deps, event, `the invoice is ${current.status} in Stripe now; the event is stale`, invoice.id);
  }

  const now = deps.clock.now().toISOString();
  if (!existing) {
    const joined = await joinSiblingCase(deps, event, invoice, subscriptionId, current, now);
    if (joined) return joined;
  }
  let dunningCase = existing ?? (await createCase(deps, event, invoice, subscriptionId, current, now));
  // A redelivery after a delivery that died between creating the case and recording it.
  if (existing) await recordOpened(deps, policyOf(deps, existing), existing, false, invoice, current);
  // Also on a redelivery after a crash here: the block is a plain write.
  dunningCase = await blockOpeningCard(deps, dunningCase, current.lastPaymentError, now);
  dunningCase = await recordOpeningAttempt(deps, dunningCase, current.lastPaymentError);
  // Before the start: a redelivery after a failed send finds no execution yet and gets here again.
  if (deps.policies) await alsoNotifyOnOpen(deps, deps.policies, dunningCase);
  return startExecution(deps, event, invoice.id, dunningCase, now);
}

/**
 * A duplicate, a replay of an old event, a manual attempt, or Stripe's own later attempt: the case
 * already runs. Only Stripe's own attempt (Smart Retries, a custom schedule) counts: its event names
 * no request. A manual attempt (our own charge, with our idempotency key, or the customer's on the
 * hosted invoice page) fails with the attempt_count Stripe's last attempt left, since Stripe counts
 * only its own retries (docs.stripe.com/api/invoices/object#invoice_object-attempt_count).
 */
async function caseAlreadyRuns(deps: OpenCaseDeps, event: StripeEventEnvelope, invoice: StripeInvoice, existing: DunningCase): Promise<IngestResult> {
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

/** One sequence per subscription: a later invoice that fails while a case is open joins it. */
async function joinSiblingCase(
  deps: Uses<'log', Cases & CaseQueries & Timeline>,
  event: StripeEventEnvelope,
  invoice: StripeInvoice,
  subscriptionId: string,
  current: InvoiceSnapshot,
  now: string,
): Promise<IngestResult | undefined> {
  const sibling = (await deps.store.listCasesOfCustomer(invoice.customer)).find(
    (c) => c.subscriptionId === subscriptionId && c.status === 'open' && c.invoiceId !== invoice.id,
  );
  if (!sibling || !(await deps.store.joinInvoice(sibling.invoiceId, invoice.id, current.amountRemaining, now))) return undefined;
  await record(deps, sibling.invoiceId, 'invoice_joined', { at: now, detail: invoice.id });
  deps.log.info('invoice joined the open case of its subscription', { invoiceId: invoice.id, caseInvoiceId: sibling.invoiceId, eventId: event.id });
  return { action: 'invoice_joined', invoiceId: invoice.id, caseInvoiceId: sibling.invoiceId };
}

/** Creates the case (or finds the one a crashed delivery created), recording and counting a new one. */
async function createCase(
  deps: OpenCaseDeps,
  event: StripeEventEnvelope,
  invoice: StripeInvoice,
  subscriptionId: string,
  current: InvoiceSnapshot,
  now: string,
): Promise<DunningCase> {
  const preferences = current.customerPreferences ?? (await deps.stripe.getCustomerPreferences(invoice.customer));
  const policyName = await choosePolicyName(deps, invoice.id, subscriptionId, current);
  const policy = policyNamed(deps, policyName, invoice.id);
  const created = await deps.store.createCase(buildCase(event, invoice, subscriptionId, current, preferences, policyName, policy, now));
  await recordOpened(deps, policy, created.case, created.created, invoice, current);
  return created.case;
}

/**
 * The opening's entries (`case_opened`, the access at the failure), which publish `Case Opened` and
 * `Access Changed`: by the call that created the case, or by the first after it that finds them not
 * noted on the case (the creator died in between). Counted with the entry.
 */
async function recordOpened(
  deps: OpenCaseDeps,
  policy: Policy,
  opened: DunningCase,
  createdNow: boolean,
  invoice: StripeInvoice,
  current: InvoiceSnapshot,
): Promise<void> {
  const failure = current.lastPaymentError;
  const wroteOpened = await writeOnce(deps, opened, OPENED_EVENT_KEY, createdNow, () =>
    record(deps, opened.invoiceId, 'case_opened', {
      at: opened.createdAt,
      eventKey: OPENED_EVENT_KEY,
      detail: `attempt ${invoice.attempt_count ?? 1} failed${failure ? ` (${describeFailure(failure)})` : ''}; policy ${opened.policy ?? DEFAULT_POLICY_NAME}`,
    }),
  );
  if (wroteOpened) deps.metrics.count('CaseOpened');
  await writeOnce(deps, opened, OPEN_ACCESS_EVENT_KEY, createdNow, () => recordAccessAtOpen(deps, policy, opened));
}

/** The event keys of a case's opening entries (see DunningCase.eventsRecorded). */
const OPENED_EVENT_KEY = 'opened';

/** The new case, open under `policyName`, owing what Stripe says is still due on the invoice. */
function buildCase(
  event: StripeEventEnvelope,
  invoice: StripeInvoice,
  subscriptionId: string,
  current: InvoiceSnapshot,
  preferences: CustomerPreferences,
  policyName: string,
  policy: Policy,
  now: string,
): DunningCase {
  // Business dates count from Stripe's clock (a test clock's frozen time, locally), not ours.
  const failedAt = new Date(event.created * 1000).toISOString();
  return {
    invoiceId: invoice.id,
    customerId: invoice.customer,
    subscriptionId,
    status: 'open',
    policy: policyName,
    amountDue: { amount: current.amountRemaining, currency: current.amountDue.currency },
    invoiceNumber: invoice.number ?? undefined,
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? undefined,
    customerEmail: invoice.customer_email ?? undefined,
    customerName: invoice.customer_name ?? undefined,
    customerLocale: preferences.locale,
    customerTimeZone: preferences.timeZone,
    ...(preferences.country ? { customerCountry: preferences.country } : {}),
    livemode: invoice.livemode,
    failedAt,
    terminatesAt: addDays(failedAt, policy.end.day),
    executionName: invoice.id,
    noticesSent: [],
    access: accessAtFailure(policy, now),
    // Its once-only entries are noted here as written, so a crash between a change and its entry is repaired.
    eventsRecorded: [],
    createdAt: now,
    updatedAt: now,
  };
}

/** The policy is chosen once, here, by the plan as Stripe holds it now; the case keeps it. */
async function choosePolicyName(deps: Uses<'policies', never, Invoices>, invoiceId: string, subscriptionId: string, current: InvoiceSnapshot): Promise<string> {
  if (!deps.policies || !hasSegments(deps.policies)) return DEFAULT_POLICY_NAME;
  return choosePolicy(deps.policies, current.plan ?? (await deps.stripe.getInvoicePlan(invoiceId, subscriptionId)));
}

/**
 * The renewal's own attempt decides, not only ours: a card that hard-declined there (lost, stolen,
 * fraudulent…), that needs the customer to authenticate, or that the issuer advised not to try
 * again, is blocked as the case opens, so no retry stage charges it. A new card is still charged.
 */
async function blockOpeningCard(deps: Uses<'log', CardBlocks & RetryLedger & Timeline>, dunningCase: DunningCase, failure: PaymentFailure | undefined, now: string): Promise<DunningCase> {
  const code = failure && blockingCode(failure);
  const card = failure?.paymentMethod;
  if (!code || !card || dunningCase.blockedPaymentMethod || dunningCase.status !== 'open') return dunningCase;
  const block = { id: card, code, at: now };
  await deps.store.blockPaymentMethod(dunningCase.invoiceId, block);
  await record(deps, dunningCase.invoiceId, 'card_blocked', {
    at: now,
    detail: `${card}: ${describeFailure(failure)} on the renewal's own attempt`,
  });
  deps.log.info('card blocked by the decline that opened the case', { invoiceId: dunningCase.invoiceId, code });
  return { ...dunningCase, blockedPaymentMethod: block };
}

/**
 * The renewal's own attempt is the first of the card's attempts: the network caps count from it,
 * and its decline decides when the first retry charges. Once, however often the event comes.
 */
async function recordOpeningAttempt(deps: OpenCaseDeps, dunningCase: DunningCase, failure: PaymentFailure | undefined): Promise<DunningCase> {
  if ((dunningCase.chargeAttempts ?? []).length > 0 || dunningCase.status !== 'open') return dunningCase;
  // When it failed, on the case's clock: the start of its schedule.
  const attempt = stripeDecline(scheduleAnchor(deps, dunningCase), failure);
  await deps.store.recordChargeAttempt(dunningCase.invoiceId, attempt, deps.clock.now().toISOString());
  return withAttempt(dunningCase, attempt);
}

/**
 * Also reached when an earlier delivery crashed between creating the case and starting the
 * execution: the start is idempotent by name, so finishing the job here is always safe.
 */
async function startExecution(deps: Uses<'log' | 'workflow', Cases & Timeline>, event: StripeEventEnvelope, invoiceId: string, dunningCase: DunningCase, now: string): Promise<IngestResult> {
  const { executionArn } = await deps.workflow.start(dunningCase.executionName, {
    invoiceId,
    policy: dunningCase.policy ?? DEFAULT_POLICY_NAME,
  });
  await deps.store.setExecutionArn(invoiceId, executionArn, now);
  await record(deps, invoiceId, 'execution_started', { at: now, detail: dunningCase.executionName });
  deps.log.info('case opened', { invoiceId, eventId: event.id, executionName: dunningCase.executionName });
  return { action: 'case_opened', invoiceId, executionArn };
}
