// `dunning simulate`: what a policy would do after a failed payment, as a dry run. Flags describe a
// made-up failure; `--invoice` reads a real one from Stripe. Nothing is charged, sent or stored.
import type { Cases } from '#shared/domain/ports-store.ts';
import type { Customers, Invoices, PaymentFailure } from '#shared/domain/ports-stripe.ts';
import type { Uses } from '#shared/dunning/deps.ts';
import { PolicyError } from '#shared/policy/errors.ts';
import { loadPolicySetFile } from '#shared/policy/load.ts';
import type { Policy } from '#shared/policy/schema.ts';
import { choosePolicy, DEFAULT_POLICY_NAME, hasSegments, policyNames, type PolicySet } from '#shared/policy/segments.ts';
import { isTimeZone } from '#shared/policy/time-zone.ts';
import { customerZones, zonesOfCountry } from '#shared/retries/calendar.ts';
import { classifyFailure, type DeclineClass } from '#shared/retries/classify.ts';
import { simulateSequence, type Simulation } from '#shared/retries/schedule.ts';
import { dateOption, type Print } from './commands.ts';
import { CliError } from './errors.ts';
import { table } from './table.ts';

/** The flags of `simulate`, as parseArgs gives them. */
export interface SimulateFlags {
  'decline-code'?: string;
  'advice-code'?: string;
  'network-advice-code'?: string;
  brand?: string;
  'time-zone'?: string;
  country?: string;
  'failed-at'?: string;
  policy?: string;
  'policy-name'?: string;
  invoice?: string;
  json?: boolean;
}

export const SIMULATE_FLAGS: ReadonlyArray<keyof SimulateFlags> = [
  'decline-code', 'advice-code', 'network-advice-code', 'brand', 'time-zone', 'country', 'failed-at', 'policy', 'policy-name', 'invoice', 'json',
];

/** The card a simulated failure is on: made up, since nothing is charged. */
export const SIMULATED_CARD = 'pm_simulated';

/**
 * Stripe error codes a decline is reported under instead of `card_declined` (docs.stripe.com/error-codes):
 * given as `--decline-code`, they become the failure's code, as Stripe would send them.
 */
const ERROR_CODES: ReadonlySet<string> = new Set([
  'authentication_required',
  'expired_card',
  'incorrect_cvc',
  'incorrect_number',
  'incorrect_zip',
  'invalid_cvc',
  'invalid_expiry_month',
  'invalid_expiry_year',
  'invalid_number',
  'processing_error',
]);

/** The failure the flags describe, on the made-up card. */
export function failureOfFlags(flags: SimulateFlags): PaymentFailure {
  const decline = flags['decline-code'];
  const isErrorCode = decline !== undefined && ERROR_CODES.has(decline);
  return {
    code: isErrorCode ? decline : 'card_declined',
    ...(decline !== undefined && !isErrorCode ? { declineCode: decline } : {}),
    ...(flags['advice-code'] !== undefined ? { adviceCode: flags['advice-code'] } : {}),
    ...(flags['network-advice-code'] !== undefined ? { networkAdviceCode: flags['network-advice-code'] } : {}),
    cardBrand: flags.brand ?? 'visa',
    paymentMethod: SIMULATED_CARD,
  };
}

/**
 * Refuses what `simulate` cannot run with, before anything is read: a failure and an invoice both or
 * neither, a zone Intl does not know, a country without zones, a date that is not one.
 */
export function checkSimulateFlags(flags: SimulateFlags, signature: string): void {
  const described = ['decline-code', 'advice-code', 'network-advice-code'].some((f) => flags[f as keyof SimulateFlags] !== undefined);
  if (!described && flags.invoice === undefined) {
    throw new CliError(`simulate needs a failure (--decline-code, --advice-code or --network-advice-code) or --invoice: ${signature}`, 2);
  }
  if (described && flags.invoice !== undefined) {
    throw new CliError('simulate takes a made-up failure (--decline-code, --advice-code, --network-advice-code) or --invoice, not both', 2);
  }
  if (flags.invoice !== undefined && !/^in_[A-Za-z0-9]+$/.test(flags.invoice)) throw new CliError(`--invoice ${flags.invoice}: not an invoice id (in_…)`, 2);
  if (flags.invoice !== undefined && flags.brand !== undefined) throw new CliError('--brand describes a made-up failure; with --invoice the card is the invoice\'s', 2);
  const zone = flags['time-zone'];
  if (zone !== undefined && !isTimeZone(zone)) throw new CliError(`--time-zone ${zone}: not an IANA time zone; use one such as Europe/Paris or America/New_York`, 2);
  const country = flags.country;
  if (country !== undefined && (!/^[A-Za-z]{2}$/.test(country) || zonesOfCountry(country.toUpperCase()).length === 0)) {
    throw new CliError(`--country ${country}: not a country code with time zones; use ISO 3166-1 alpha-2, e.g. FR or US`, 2);
  }
  if (flags['failed-at'] !== undefined) dateOption('failed-at', flags['failed-at']);
}

/** The policy file `--policy` names, read as one line per problem for the operator. */
export function readPolicyFile(file: string): PolicySet {
  try {
    return loadPolicySetFile(file);
  } catch (error) {
    if (error instanceof PolicyError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** A policy of the set by name; an unknown name is refused with the names there are. */
export function policyByName(set: PolicySet, name: string): Policy {
  const policy = set.policies[name];
  if (!policy) throw new CliError(`--policy-name ${name}: no such policy; the policies are ${policyNames(set).join(', ')}`, 2);
  return policy;
}

/** What `simulate` prints, in the shape of its `--json`. */
export interface SimulationReport extends Simulation {
  policy: string;
  failure: { class: DeclineClass; code: string; reason: string };
  zone: string;
}

/**
 * The planned sequence for `failure` under `policy`. Under `retries: "stripe"` Stripe's own retries
 * charge and the policy's retry stages stand down: they are listed as skipped, with that reason.
 */
export function simulation(options: {
  policyName: string;
  policy: Policy;
  failure: PaymentFailure;
  failedAt: Date;
  timeZone?: string;
  country?: string;
}): SimulationReport {
  const { policy } = options;
  const classified = classifyFailure(options.failure);
  const zones = customerZones({ timeZone: options.timeZone, country: options.country, policyZone: policy.timeZone, window: policy.retryTiming.window });
  const planned = simulateSequence({
    policy,
    zones,
    failedAt: options.failedAt,
    failure: classified,
    card: { id: options.failure.paymentMethod ?? SIMULATED_CARD, ...(options.failure.cardBrand ? { brand: options.failure.cardBrand } : {}) },
  });
  const stripeRetries = policy.retries === 'stripe';
  return {
    policy: options.policyName,
    failure: { class: classified.class, code: classified.code, reason: classified.reason },
    zone: zones.label,
    steps: stripeRetries ? planned.steps.filter((s) => s.kind !== 'retry') : planned.steps,
    skipped: stripeRetries
      ? policy.stages.filter((s) => s.type === 'retry').map((s) => ({ stage: s.id, reason: STRIPE_RETRIES }))
      : planned.skipped,
  };
}

const STRIPE_RETRIES = 'retries: "stripe": Stripe\'s Smart Retries do the retrying, and this retry stage stands down';

export function printSimulation(report: SimulationReport, print: Print, json: boolean): void {
  if (json) {
    print(JSON.stringify(report, null, 2));
    return;
  }
  const f = report.failure;
  print(`policy ${report.policy}; failure ${f.code}: ${f.class} (${f.reason}); times in ${report.zone}`);
  if (report.skipped.some((s) => s.reason === STRIPE_RETRIES)) {
    print('Stripe\'s Smart Retries do the retrying under this policy (retries: "stripe"): its retry stages stand down; the notices and the end follow.');
  }
  print('');
  print(table(['at', 'kind', 'stage', 'reason'], report.steps.map((s) => [s.at, s.kind, s.stage, s.reason])));
  if (report.skipped.length > 0) {
    print('');
    print(table(['skipped', 'why'], report.skipped.map((s) => [s.stage, s.reason])));
  }
}

/** `simulate` with a made-up failure: pure, apart from reading the policy file. */
export function simulateFailure(flags: SimulateFlags, policies: PolicySet, print: Print, now: Date): void {
  const policyName = flags['policy-name'] ?? DEFAULT_POLICY_NAME;
  const report = simulation({
    policyName,
    policy: policyByName(policies, policyName),
    failure: failureOfFlags(flags),
    failedAt: flags['failed-at'] !== undefined ? dateOption('failed-at', flags['failed-at']) : now,
    ...zoneFlags(flags),
  });
  printSimulation(report, print, flags.json ?? false);
}

const zoneFlags = (flags: SimulateFlags) => ({
  ...(flags['time-zone'] !== undefined ? { timeZone: flags['time-zone'] } : {}),
  ...(flags.country !== undefined ? { country: flags.country.toUpperCase() } : {}),
});

export type SimulateInvoiceDeps = Uses<
  'policy' | 'policies' | 'clock',
  Pick<Cases, 'findCaseOfInvoice'>,
  Pick<Invoices & Customers, 'getInvoice' | 'getInvoicePlan' | 'getCustomerPreferences'>
>;

/**
 * `simulate --invoice`: the invoice's last failure as Stripe recorded it, read-only, and what the
 * policy does from it. Its case, when there is one, gives the failure's time and the policy it runs;
 * the customer's `metadata.time_zone` gives the zone. Flags given override what was read.
 */
export async function simulateInvoice(deps: SimulateInvoiceDeps, flags: SimulateFlags & { invoice: string }, print: Print, policiesOverride?: PolicySet): Promise<void> {
  const invoice = await deps.stripe.getInvoice(flags.invoice, { withPaymentError: true });
  const failure = invoice.lastPaymentError;
  if (!failure) throw new CliError(`${flags.invoice}: Stripe records no failed payment for it (the invoice is ${invoice.status}); nothing to simulate`);
  const set = policiesOverride ?? deps.policies ?? { policies: { [DEFAULT_POLICY_NAME]: deps.policy }, segments: [], alsoNotify: [] };
  const found = await deps.store.findCaseOfInvoice(flags.invoice);
  const policyName =
    flags['policy-name'] ??
    found?.policy ??
    (hasSegments(set) && invoice.subscriptionId ? choosePolicy(set, await deps.stripe.getInvoicePlan(invoice.id, invoice.subscriptionId)) : DEFAULT_POLICY_NAME);
  const preferences = await deps.stripe.getCustomerPreferences(invoice.customerId);
  // The gateway reads no address country: a country comes only from --country.
  const timeZone = flags['time-zone'] ?? preferences.timeZone ?? found?.customerTimeZone;
  const failedAt = flags['failed-at'] !== undefined ? dateOption('failed-at', flags['failed-at']) : found ? new Date(found.failedAt) : deps.clock.now();
  const report = simulation({
    policyName,
    policy: policyByName(set, policyName),
    failure: { ...failure, paymentMethod: failure.paymentMethod ?? invoice.defaultPaymentMethod ?? SIMULATED_CARD },
    failedAt,
    ...(timeZone ? { timeZone } : {}),
    ...(flags.country !== undefined ? { country: flags.country.toUpperCase() } : {}),
  });
  if (!flags.json) {
    const from = flags['failed-at'] !== undefined ? 'as --failed-at says' : found ? `its case's, ${found.status} at ${found.stage}` : 'no case yet: from now';
    print(`${invoice.id}: failed at ${failedAt.toISOString()} (${from})`);
  }
  printSimulation(report, print, flags.json ?? false);
}
