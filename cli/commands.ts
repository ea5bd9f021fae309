// The operator's commands. Each is thin over shared/: read or act on one case through the same use
// cases the functions run, and print the answer as a table or one line.
import { readFile } from 'node:fs/promises';
import type { CaseStatus, DunningCase } from '#shared/domain/case.ts';
import { CaseClosedError } from '#shared/domain/errors.ts';
import { ingestStripeEvent } from '#shared/dunning/ingest.ts';
import { StripeEventSchema, type StripeEventEnvelope } from '#shared/dunning/invoice-event.ts';
import { closeByOperator, redriveByOperator, retryNow, type RetryNowResult } from '#shared/dunning/operator.ts';
import { PAUSE_CAP_DAYS } from '#shared/domain/pause-limits.ts';
import { pauseCase, pausedUntil, resumeCase } from '#shared/dunning/pause.ts';
import { recoveryOverview } from '#shared/dunning/overview.ts';
import { recoveryReport } from '#shared/dunning/report.ts';
import { liftSuppression } from '#shared/dunning/suppression.ts';
import { formatMoney } from '#shared/domain/format.ts';
import { compressedCaseClock, WALL_CLOCK, type CaseClock } from '#shared/domain/case-clock.ts';
import { singlePolicySet } from '#shared/policy/segments.ts';
import type { OperatorDeps } from './deps.ts';
import { CliError } from './errors.ts';
import { writeOverviewFile } from './report-html.ts';
import { table } from './table.ts';

export type Print = (text: string) => void;

export const STATUSES: readonly CaseStatus[] = ['open', 'recovered', 'terminated', 'needs_attention', 'closed'];

/** Money in the operator's terms: en-GB formatting, Stripe's decimal places for the currency. */
const money = (m: DunningCase['amountDue']) => formatMoney(m, 'en-GB');
const shortTime = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

/**
 * The clock a case's times are shown and taken in: the wall clock for a stack, where nothing
 * changes; locally the case's own (see shared/domain/case-clock.ts), named after its customer's
 * Stripe test clock when `withTestClock` asks for the look-up.
 */
async function clockOf(deps: OperatorDeps, c: DunningCase, withTestClock = false): Promise<CaseClock> {
  if (!deps.policyDayMs) return WALL_CLOCK;
  return compressedCaseClock(c, deps.policyDayMs, withTestClock ? await testClockOf(deps, c.customerId) : undefined);
}

async function testClockOf(deps: OperatorDeps, customerId: string): Promise<string | undefined> {
  try {
    const customer = await deps.stripeClient.customers.retrieve(customerId);
    const clock = customer.deleted ? undefined : customer.test_clock;
    return typeof clock === 'string' ? clock : (clock?.id ?? undefined);
  } catch {
    // A customer Stripe no longer has: the times read the same, only the clock goes unnamed.
    return undefined;
  }
}

/** The clock of a case in a list: no Stripe call per row. */
const clockOfList = (deps: OperatorDeps, c: DunningCase): CaseClock => (deps.policyDayMs ? compressedCaseClock(c, deps.policyDayMs) : WALL_CLOCK);

/** A stored time as `clock` reads it, short. */
const timeIn = (clock: CaseClock, iso: string | undefined) => (iso ? shortTime(clock.show(new Date(iso)).toISOString()) : '');

export async function listCases(deps: OperatorDeps, print: Print, status?: CaseStatus): Promise<void> {
  const now = deps.clock.now();
  // Open cases come from their own index; any other status needs the whole table.
  const cases = (status === 'open' ? await deps.store.listOpenCases() : await deps.store.listCases())
    .filter((c) => !status || c.status === status)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  if (cases.length === 0) {
    print(status ? `no ${status} cases` : 'no cases');
    return;
  }
  if (deps.policyDayMs) {
    print(`times are in each case's own clock: from its failure in Stripe's clock (its test clock's, for a test-clock customer), one policy day per ${deps.policyDayMs} ms here`);
  }
  print(table(
    ['invoice', 'customer', 'status', 'stage', 'amount', 'opened', 'notices'],
    cases.map((c) => [
      c.invoiceId,
      c.customerName ? `${c.customerName} (${c.customerId})` : c.customerId,
      pausedUntil(c, now) ? `${c.status} (paused)` : c.status,
      c.stage,
      money(c.amountDue),
      timeIn(clockOfList(deps, c), c.createdAt),
      (c.noticesSent ?? []).join(' '),
    ]),
  ));
}

export async function showCase(deps: OperatorDeps, print: Print, invoiceId: string): Promise<void> {
  const c = await caseOf(deps, invoiceId);
  const clock = await clockOf(deps, c, true);
  // failedAt and terminatesAt are the case's business dates, already in its clock; the rest is stored
  // in the wall clock and shown in the case's.
  const paused = pausedUntil(c, deps.clock.now());
  if (clock.description) print(`times are in ${clock.description}`);
  const facts: Array<[string, string | undefined]> = [
    ['invoice', c.invoiceId + (c.extraInvoiceIds?.length ? ` (+ ${c.extraInvoiceIds.join(', ')})` : '')],
    ['customer', c.customerName ? `${c.customerName} (${c.customerId})` : c.customerId],
    ['subscription', c.subscriptionId],
    ['status', c.status + (paused ? `, paused until ${timeIn(clock, paused)}` : '')],
    ['stage', c.stage],
    ['amount due', money(c.amountDue)],
    ['opened', timeIn(clock, c.createdAt)],
    ['failed at', shortTime(c.failedAt)],
    ['terminates at', shortTime(c.terminatesAt)],
    ['execution', c.executionArn ?? c.executionName],
    ['recovered by', c.recoveredBy],
    ['closed', c.closedReason],
    ['error', c.error ? `${c.error.name}: ${c.error.message}` : undefined],
    ['blocked card', c.blockedPaymentMethod ? `${c.blockedPaymentMethod.id} (${c.blockedPaymentMethod.code})` : undefined],
    ['last decline', lastDecline(c)],
    ['next retry', nextRetryLine(c)],
    ['email', c.emailSuppressed ? `suppressed (${c.emailSuppressed.reason})` : undefined],
  ];
  print(facts.filter(([, v]) => v).map(([k, v]) => `${k.padEnd(14)}${v}`).join('\n'));
  print('');
  const timeline = await deps.store.listTimeline(c.invoiceId);
  print(table(
    ['at', 'what', 'stage', 'detail', 'id'],
    timeline.map((e) => [timeIn(clock, e.at), e.type, e.stage, e.detail, e.messageId ?? e.eventId]),
  ));
}

/** The class and reason of the case's latest declined charge, and how many charges it has seen. */
function lastDecline(c: DunningCase): string | undefined {
  const attempts = c.chargeAttempts ?? [];
  const last = [...attempts].reverse().find((a) => a.outcome === 'declined' && a.failure);
  if (!last?.failure) return undefined;
  return `${last.failure.class}: ${last.failure.reason} (by ${last.by}; ${attempts.length} charge${attempts.length === 1 ? '' : 's'} so far)`;
}

/** When the next retry charges and why, or why it will not: in the case's business clock, as planned. */
export function nextRetryLine(c: Pick<DunningCase, 'status' | 'nextRetry'>): string | undefined {
  const next = c.nextRetry;
  if (!next || (c.status !== 'open' && c.status !== 'needs_attention')) return undefined;
  return next.at ? `${shortTime(next.at)} ${next.stage}: ${next.reason}` : `${next.stage} skipped: ${next.reason}`;
}

export async function retryCaseNow(deps: OperatorDeps, print: Print, invoiceId: string): Promise<void> {
  const c = await caseOf(deps, invoiceId);
  let result: RetryNowResult;
  try {
    result = await retryNow(deps, c);
  } catch (error) {
    if (error instanceof CaseClosedError) throw new CliError(`${invoiceId}: ${error.message}`);
    throw error;
  }
  const said = retryNowMessage(invoiceId, c.amountDue, result);
  if (said.failed) throw new CliError(said.text);
  print(said.text);
}

/** Ends a text as a sentence: Stripe's messages come with a full stop or without one. */
const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

/**
 * What `retry-now` says for each outcome: the invoice, what happened, then what follows, each a
 * sentence of its own. `failed` when nothing was paid (the command exits non-zero).
 */
export function retryNowMessage(invoiceId: string, amount: DunningCase['amountDue'], result: RetryNowResult): { text: string; failed: boolean } {
  switch (result.outcome) {
    case 'paid':
      return { failed: false, text: `${invoiceId}: paid ${money(amount)}. ${result.recovered ? 'The case is recovered and the customer thanked.' : 'The case stays open: another invoice of it is unpaid.'}` };
    case 'already_paid':
      return { failed: false, text: `${invoiceId}: already paid in Stripe. ${result.recovered ? 'The case is recovered.' : 'The case stays open: another invoice of it is unpaid.'}` };
    case 'declined':
      return { failed: true, text: `${invoiceId}: declined (${result.code}): ${sentence(result.message)} The sequence goes on.` };
    case 'skipped':
      return { failed: true, text: `${invoiceId}: not charged: the card on file hard-declined before (${result.code}). The customer must put in a new card.` };
    case 'busy':
      return { failed: true, text: `${invoiceId}: another charge of this invoice is in flight. Try again in a minute.` };
    case 'not_open':
      return { failed: true, text: `${invoiceId}: the case is ${result.status}. There is nothing to charge.` };
  }
}

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * A date flag's value: ISO 8601, a date or a date-time with its zone. Checked against the calendar,
 * since Date would read 2026-02-30 as 2 March, "1" as 2001, and a time without zone in the
 * operator's own zone.
 */
export function dateOption(flag: 'until' | 'since' | 'failed-at', value: string): Date {
  const match = ISO_8601.exec(value);
  const date = new Date(value);
  const day = match ? `${match[1]}-${match[2]}-${match[3]}` : undefined;
  if (!day || Number.isNaN(date.getTime()) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    throw new CliError(`--${flag} ${value}: not a date; use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:00:00Z (a time needs its zone)`, 2);
  }
  return date;
}

export async function pause(deps: OperatorDeps, print: Print, invoiceId: string, until?: string): Promise<void> {
  const date = until !== undefined ? dateOption('until', until) : undefined;
  const c = await openCaseOf(deps, invoiceId);
  // --until is read in the case's clock, the one `case` shows its dates in.
  const clock = await clockOf(deps, c, true);
  try {
    const result = await pauseCase(deps, c, date, clock);
    const why = !until ? ` (until resumed, at most ${PAUSE_CAP_DAYS} days after the case opened)` : result.capped ? ` (capped: at most ${PAUSE_CAP_DAYS} days after the case opened)` : '';
    print(`${invoiceId}: paused until ${result.pausedUntil}${why}; nothing is sent or charged until then. A payment still recovers it.`);
    if (clock.description) print(`times are in ${clock.description}`);
  } catch (error) {
    if (error instanceof RangeError) throw new CliError(`${invoiceId}: ${error.message}`, 2);
    throw notOpen(invoiceId, error);
  }
}

export async function resume(deps: OperatorDeps, print: Print, invoiceId: string): Promise<void> {
  const c = await openCaseOf(deps, invoiceId);
  if (!pausedUntil(c, deps.clock.now())) throw new CliError(`${invoiceId}: the case is not paused`);
  try {
    await resumeCase(deps, c);
  } catch (error) {
    throw notOpen(invoiceId, error);
  }
  print(`${invoiceId}: resumed; its stage runs at its next look (within the hour in AWS)`);
}

export async function close(deps: OperatorDeps, print: Print, invoiceId: string, reason: string): Promise<void> {
  const c = await caseOf(deps, invoiceId);
  if (!(await closeByOperator(deps, c, reason))) {
    const now = await caseOf(deps, invoiceId);
    throw new CliError(`${invoiceId}: not closed: the case is ${now.status}${now.stage === 'Terminate' ? ' (terminating)' : ''}`);
  }
  print(`${invoiceId}: closed (closed by operator: ${reason}); execution stopped, banner cleared`);
}

export async function replay(deps: OperatorDeps, print: Print, source: string): Promise<void> {
  let raw: unknown;
  if (/^evt_[A-Za-z0-9]+$/.test(source)) {
    try {
      raw = await deps.stripeClient.events.retrieve(source);
    } catch (error) {
      throw new CliError(`could not fetch ${source} from Stripe: ${(error as Error).message}`);
    }
  } else {
    try {
      raw = JSON.parse(await readFile(source, 'utf8'));
    } catch (error) {
      throw new CliError(`${source}: not a readable JSON event file, nor an evt_ id (${(error as Error).message})`, 2);
    }
  }
  const parsed = StripeEventSchema.safeParse(raw);
  if (!parsed.success) throw new CliError(`${source}: not a Stripe event: ${parsed.error.issues[0]?.message ?? 'bad shape'}`, 2);
  const event: StripeEventEnvelope = parsed.data;
  // Without the dedupe: a replay is on purpose. The router decides by Stripe's current state, so an
  // old event changes nothing that has moved on.
  const result = await ingestStripeEvent(deps, event, { replayedBy: 'operator' });
  const { action, ...rest } = result;
  const details = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  print(`${event.id} (${event.type}): ${action}${details.length ? ` ${details.join(' ')}` : ''}`);
}

export async function redrive(deps: OperatorDeps, print: Print, executionName: string): Promise<void> {
  // Step Functions' own rule for names; anything else cannot be an execution of ours.
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(executionName)) throw new CliError(`${executionName}: not an execution name (the case's invoice id, in_…)`, 2);
  const result = await redriveByOperator(deps, executionName);
  switch (result.outcome) {
    case 'redriven':
      print(`${executionName}: redriven${result.state ? ` from ${result.state}` : ''}; case ${result.invoiceId} is open again and its sequence goes on`);
      return;
    case 'no_execution':
      throw new CliError(`${executionName}: no such execution of the dunning state machine (or older than Step Functions keeps)`);
    case 'not_failed':
      throw new CliError(`${executionName}: the execution is ${result.status}, not failed; only a failed execution can be redriven`);
    case 'no_case':
      throw new CliError(`${executionName}: the execution has no dunning case; nothing to redrive`);
    case 'case_closed':
      throw new CliError(`${executionName}: the case ${result.invoiceId} is ${result.status}; it is not reopened (a paid or ended case stays ended)`);
    case 'refused':
      throw new CliError(`${executionName}: Step Functions will not redrive it: ${result.reason}. Settle the case with retry-now or close`);
  }
}

/** Loose on purpose: Stripe holds the address; this only catches an invoice id or a typo like a missing @. */
const EMAIL_ADDRESS = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function unsuppress(deps: OperatorDeps, print: Print, address: string, reason: string): Promise<void> {
  if (!EMAIL_ADDRESS.test(address)) throw new CliError(`${address}: not an email address`, 2);
  const lifted = await liftSuppression(deps, address, reason);
  const sesList = `SES's account-level suppression list is separate: if SES lists the address too, remove it there (aws sesv2 delete-suppressed-destination --email-address ${address})`;
  if (!lifted) throw new CliError(`${address}: dunning does not suppress this address. ${sesList}`);
  const was = `${lifted.suppression.reason === 'bounce' ? 'a hard bounce' : 'a complaint'} on ${shortTime(lifted.suppression.at)}`;
  const cases = lifted.cases.length ? `; cleared on ${lifted.cases.join(', ')}` : '';
  print(`${address}: suppression lifted (it followed ${was})${cases}. Later notices go out again. ${sesList}`);
}

/** With `html`: the overview's charts written to that file (checked by `htmlFileOption`) instead of the tables, and one line saying so. */
export async function report(deps: OperatorDeps, print: Print, since?: string, html?: { path: string; target: string }): Promise<void> {
  const sinceDate = since !== undefined ? dateOption('since', since) : undefined;
  // --since is read in the cases' own clocks, as `cases` shows when each opened; so are the days the cases ended on.
  const inClock = (clock: CaseClock, iso: string) => clock.show(new Date(iso)).toISOString();
  const cases = (await deps.store.listCases()).map((c) => {
    const clock = clockOfList(deps, c);
    return { ...c, createdAt: inClock(clock, c.createdAt), updatedAt: inClock(clock, c.updatedAt), ...(c.closedAt ? { closedAt: inClock(clock, c.closedAt) } : {}) };
  });
  const policies = deps.policies ?? singlePolicySet(deps.policy);
  if (html) {
    const overview = recoveryOverview(policies, cases, deps.clock.now(), sinceDate);
    print(writeOverviewFile(html.path, overview, { target: html.target, scope: `cases opened ${sinceDate ? `since ${sinceDate.toISOString()}` : 'ever'}` }));
    return;
  }
  const r = recoveryReport(policies, cases, sinceDate);
  const pct = (n: number) => (r.opened ? `${((100 * n) / r.opened).toFixed(1)}%` : '');
  print(`Cases opened ${r.since ? `since ${r.since}` : 'ever'}: ${r.opened}`);
  print('');
  print(table(['funnel', 'cases', 'of opened'], [
    ['opened', r.opened, pct(r.opened)],
    ...r.reachedStage.map((s) => [`reached ${s.stage}`, s.cases, pct(s.cases)]),
    ['recovered', r.byStatus.recovered, pct(r.byStatus.recovered)],
    ['terminated', r.byStatus.terminated, pct(r.byStatus.terminated)],
    ['closed', r.byStatus.closed, pct(r.byStatus.closed)],
    ['needs_attention', r.byStatus.needs_attention, pct(r.byStatus.needs_attention)],
    ['still open', r.byStatus.open, pct(r.byStatus.open)],
  ]));
  print('');
  print(`Recovery rate: ${r.recoveryRate === undefined ? 'n/a (no case has ended)' : `${(100 * r.recoveryRate).toFixed(1)}%`} (recovered ÷ (recovered + terminated))`);
  print('');
  print(r.recoveredRevenue.length
    ? table(['currency', 'recovered'], r.recoveredRevenue.map((x) => [x.currency, formatMoney({ amount: x.amount, currency: x.currency }, 'en-GB')]))
    : 'Recovered revenue: none yet');
}

async function caseOf(deps: OperatorDeps, invoiceId: string): Promise<DunningCase> {
  if (!/^in_[A-Za-z0-9]+$/.test(invoiceId)) throw new CliError(`${invoiceId}: not an invoice id (in_…)`, 2);
  const found = await deps.store.findCaseOfInvoice(invoiceId);
  if (!found) throw new CliError(`${invoiceId}: no dunning case for this invoice`);
  return found;
}

async function openCaseOf(deps: OperatorDeps, invoiceId: string): Promise<DunningCase> {
  const c = await caseOf(deps, invoiceId);
  if (c.status !== 'open') throw new CliError(`${invoiceId}: the case is ${c.status}; only an open case can be paused or resumed`);
  return c;
}

function notOpen(invoiceId: string, error: unknown): Error {
  return error instanceof CaseClosedError ? new CliError(`${invoiceId}: ${error.message}`) : (error as Error);
}
