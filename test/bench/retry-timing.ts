// The retry timing section: every charge the retry rules plan, for every sandbox decline card, checked
// by the independent audit (no charge wasted), and a seeded model of issuers comparing the rules with
// a fixed calendar. Pure: no runtime, no network; `npx tsx test/bench/retry-timing.ts` runs it alone.
import { TEST_CARDS, type TestCard } from '../../packages/stripe-sandbox/src/cards.ts';
import type { PaymentFailure } from '#shared/domain/ports-stripe.ts';
import type { ChargeAttempt, Classification } from '#shared/domain/retry-records.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import type { Policy } from '#shared/policy/schema.ts';
import { ruleBreaches } from '#shared/retries/audit.ts';
import { customerZones, DAY_MS, HOUR_MS, inWindow, localParts, paydayOf, type CustomerZones } from '#shared/retries/calendar.ts';
import { classifyFailure } from '#shared/retries/classify.ts';
import { planRetry } from '#shared/retries/plan.ts';
import { momentOf, policySteps, retryBounds, simulateSequence } from '#shared/retries/schedule.ts';

/** The default policy (shared/policy/default.json, parsed by PolicySchema). */
export const POLICY: Policy = loadPolicyFile();

/** The customers' calendars checked: four zones given outright, and a US customer known only by country. */
export function zoneCases(policy: Policy = POLICY): Record<string, CustomerZones> {
  const window = policy.retryTiming.window;
  const given = (timeZone: string) => customerZones({ timeZone, policyZone: policy.timeZone, window });
  return {
    UTC: given('UTC'),
    'Europe/Paris': given('Europe/Paris'),
    'America/New_York': given('America/New_York'),
    'Asia/Tokyo': given('Asia/Tokyo'),
    'US (country only)': customerZones({ country: 'US', policyZone: policy.timeZone, window }),
  };
}

/** The sandbox's decline as the Stripe adapter reads it (shared/adapters/stripe-gateway.ts, declineDetails). */
export function failureOf(card: TestCard): Omit<PaymentFailure, 'message' | 'paymentMethod'> {
  const d = card.decline!;
  return {
    code: d.code,
    declineCode: d.decline_code,
    ...(d.advice_code ? { adviceCode: d.advice_code } : {}),
    ...(d.network_advice_code ? { networkAdviceCode: d.network_advice_code } : {}),
    ...(d.network_decline_code ? { networkDeclineCode: d.network_decline_code } : {}),
    cardBrand: card.brand,
    outcomeType: d.outcome,
  };
}

export const DECLINING_CARDS: readonly TestCard[] = TEST_CARDS.filter((c) => c.decline);

/** Moments from `start`, every `stepHours`, for `days` days. */
export function momentsFrom(start: Date, days: number, stepHours: number): Date[] {
  const out: Date[] = [];
  for (let t = start.getTime(); t < start.getTime() + days * DAY_MS; t += stepHours * HOUR_MS) out.push(new Date(t));
  return out;
}

/**
 * The default grid: every 5 hours over four weeks from Monday 2 March 2026, so the US (8 March) and
 * Europe (29 March) clock changes, a month's end and its paydays all fall inside.
 */
export const DEFAULT_GRID = { start: new Date('2026-03-02T00:00:00Z'), days: 28, stepHours: 5 };

type BreachKind = 'stopped card' | 'network cap' | 'outside business hours' | 'after the end' | 'other';

function kindOf(breach: string): BreachKind {
  if (breach.startsWith('charged a card stopped')) return 'stopped card';
  if (breach.includes(' cap of ')) return 'network cap';
  if (breach.includes('business hours')) return 'outside business hours';
  if (breach.startsWith('after the end')) return 'after the end';
  return 'other';
}

/**
 * The rules each charge of a sequence broke: the audit's (`ruleBreaches`), and two of the sequence's
 * own: a charge after the policy's end, and any charge of a card its first failure stopped.
 */
export function sequenceBreaches(attempts: readonly ChargeAttempt[], policy: Policy, zones: CustomerZones, failedAt: Date): string[][] {
  const end = momentOf(failedAt, policy.end.day).getTime();
  return attempts.map((attempt, i) => {
    // Only ours are judged: the renewal's own charge and Stripe's attempts are what the rules read.
    if (attempt.by !== 'workflow') return [];
    const breaches = ruleBreaches(attempt, attempts.slice(0, i), policy.retryTiming, zones.zones);
    if (Date.parse(attempt.at) > end) breaches.push('after the end of the policy');
    const first = attempts.find((a) => a.by !== 'workflow' && a.outcome === 'declined');
    if (first?.failure?.stopsCard && !breaches.some((b) => kindOf(b) === 'stopped card')) breaches.push(`charged a card stopped by: ${first.failure.reason}`);
    return breaches;
  });
}

/** A card's earlier declines, in hours before the failure, oldest first. */
export interface PriorPattern {
  label: string;
  hoursBefore: number[];
}

const daily = (days: number) => Array.from({ length: days }, (_, k) => (days - k) * 24);

/**
 * Earlier declines that bring the caps into play: Stripe's own attempts once a day for n days (at 15
 * the default cap of 15 reattempts in 30 days is full before our first retry), and a bunch a month
 * before (an earlier invoice retried four times a day) that leaves the cap full at a retry's own day
 * and frees it a day or two later.
 */
export const PRIOR_PATTERNS: PriorPattern[] = [
  ...[5, 14, 15, 16, 29].map((n) => ({ label: `daily for ${n} days`, hoursBefore: daily(n) })),
  {
    label: '4 a day for 4 days a month before, then daily for 4 days',
    hoursBefore: [...Array.from({ length: 16 }, (_, k) => 27 * 24 - k * 6), ...daily(4)],
  },
];

export interface WastedResult {
  cards: number;
  /** The issuer's advice codes (`advice_code`) and the network's (`network_advice_code`) the cards cover. */
  adviceCodes: string[];
  networkAdviceCodes: string[];
  classes: Record<string, number>;
  zones: string[];
  moments: number;
  scenarios: number;
  charges: number;
  /** Charges that broke a rule: the figure that must be 0. */
  wasted: number;
  byKind: Partial<Record<BreachKind, number>>;
  /** A few of them, to start from. */
  examples: string[];
  /** The cap scenario: the same check with the card's earlier declines recorded. */
  caps: { scenarios: number; charges: number; wasted: number; skippedForCap: number; heldByCap: number; patterns: string[] };
}

/** Adds the wasted charges of one sequence to `into` (by kind, and the first few as examples); returns how many. */
function tally(into: { byKind: WastedResult['byKind']; examples?: string[] }, attempts: readonly ChargeAttempt[], breaches: string[][], label: string): number {
  let wasted = 0;
  breaches.forEach((list, i) => {
    if (list.length === 0) return;
    wasted += 1;
    for (const b of new Set(list.map(kindOf))) into.byKind[b] = (into.byKind[b] ?? 0) + 1;
    if (into.examples && into.examples.length < 5) into.examples.push(`${label}: charge at ${attempts[i]!.at}: ${list.join('; ')}`);
  });
  return wasted;
}

/** The charges `simulateSequence` plans, as the attempts they would record (each failing the same way). */
function attemptsOfSimulation(failedAt: Date, failure: Classification, card: { id: string; brand: string }, policy: Policy, zones: CustomerZones): ChargeAttempt[] {
  const sim = simulateSequence({ policy, zones, failedAt, failure, card });
  const attempts: ChargeAttempt[] = [{ at: failedAt.toISOString(), by: 'stripe', outcome: 'declined', card: card.id, brand: card.brand, failure }];
  for (const step of sim.steps) {
    if (step.kind !== 'retry') continue;
    const at = new Date(Date.parse(step.at)).toISOString();
    attempts.push({ at, by: 'workflow', outcome: 'declined', card: card.id, brand: card.brand, failure, plannedFor: at });
  }
  return attempts;
}

/**
 * The planned charges of a case whose card has `prior` earlier attempts, each retry planned as the
 * retry stage does (`planRetry` in `retryBounds`, from the moment the step before ran), until a charge
 * passes (`passes`) or the policy ends. Without prior attempts and with nothing passing, it plans
 * what `simulateSequence` prints (the test checks it does).
 */
export function planCase(options: {
  policy: Policy;
  zones: CustomerZones;
  failedAt: Date;
  failure: Classification;
  card: { id: string; brand: string };
  prior?: readonly ChargeAttempt[];
  passes?: (at: Date, attempts: readonly ChargeAttempt[]) => boolean;
}): { attempts: ChargeAttempt[]; skippedForCap: number; recovered: boolean } {
  const { policy, zones, failedAt, failure, card } = options;
  const attempts: ChargeAttempt[] = [
    ...(options.prior ?? []),
    { at: failedAt.toISOString(), by: 'stripe', outcome: 'declined', card: card.id, brand: card.brand, failure },
  ];
  let now = failedAt;
  let skippedForCap = 0;
  for (const step of policySteps(policy)) {
    if (step.kind !== 'retry') {
      now = new Date(Math.max(momentOf(failedAt, step.day).getTime(), now.getTime()));
      continue;
    }
    const decision = planRetry({ timing: policy.retryTiming, zones, now, bounds: retryBounds(policy, step.id, failedAt), card, attempts });
    if (decision.kind === 'skip') {
      if (decision.reasonClass === 'cap') skippedForCap += 1;
      continue;
    }
    const at = decision.at.toISOString();
    const paid = options.passes?.(decision.at, attempts) ?? false;
    attempts.push({ at, by: 'workflow', outcome: paid ? 'paid' : 'declined', card: card.id, brand: card.brand, ...(paid ? {} : { failure }), plannedFor: at });
    if (paid) return { attempts, skippedForCap, recovered: true };
    now = decision.at;
  }
  return { attempts, skippedForCap, recovered: false };
}

/**
 * Part 1: every declining sandbox card, failing at every moment of the grid in every zone, each retry
 * failing the same way: every charge the default policy plans, checked by the audit.
 */
export function wastedAttempts(options: { moments?: Date[]; zones?: Record<string, CustomerZones>; policy?: Policy; capMoments?: Date[]; priorPatterns?: PriorPattern[] } = {}): WastedResult {
  const policy = options.policy ?? POLICY;
  const zones = options.zones ?? zoneCases(policy);
  const moments = options.moments ?? momentsFrom(DEFAULT_GRID.start, DEFAULT_GRID.days, DEFAULT_GRID.stepHours);
  const capMoments = options.capMoments ?? momentsFrom(DEFAULT_GRID.start, DEFAULT_GRID.days, 23);
  const priorPatterns = options.priorPatterns ?? PRIOR_PATTERNS;
  const result: WastedResult = {
    cards: DECLINING_CARDS.length,
    adviceCodes: [...new Set(DECLINING_CARDS.map((c) => c.decline!.advice_code).filter((x): x is NonNullable<typeof x> => Boolean(x)))].sort(),
    networkAdviceCodes: [...new Set(DECLINING_CARDS.map((c) => c.decline!.network_advice_code).filter((x): x is string => Boolean(x)))].sort(),
    classes: {},
    zones: Object.keys(zones),
    moments: moments.length,
    scenarios: 0,
    charges: 0,
    wasted: 0,
    byKind: {},
    examples: [],
    caps: { scenarios: 0, charges: 0, wasted: 0, skippedForCap: 0, heldByCap: 0, patterns: priorPatterns.map((p) => p.label) },
  };
  for (const card of DECLINING_CARDS) {
    const failure = classifyFailure(failureOf(card));
    result.classes[failure.class] = (result.classes[failure.class] ?? 0) + 1;
    const charged = { id: card.token, brand: card.brand };
    for (const [label, zone] of Object.entries(zones)) {
      for (const failedAt of moments) {
        const attempts = attemptsOfSimulation(failedAt, failure, charged, policy, zone);
        result.scenarios += 1;
        result.charges += attempts.length - 1;
        result.wasted += tally(result, attempts, sequenceBreaches(attempts, policy, zone, failedAt), `${card.token}, ${label}, failed ${failedAt.toISOString()}`);
      }
    }
    // The caps: the card's earlier declines (Stripe's own attempts), all declined alike.
    const zone = zones.UTC ?? Object.values(zones)[0]!;
    for (const pattern of priorPatterns) {
      for (const failedAt of capMoments) {
        const prior: ChargeAttempt[] = pattern.hoursBefore.map((h) => ({
          at: new Date(failedAt.getTime() - h * HOUR_MS).toISOString(),
          by: 'stripe',
          outcome: 'declined',
          card: charged.id,
          brand: card.brand,
          failure,
        }));
        const n = prior.length;
        const { attempts, skippedForCap } = planCase({ policy, zones: zone, failedAt, failure, card: charged, prior });
        const free = planCase({ policy, zones: zone, failedAt, failure, card: charged });
        result.caps.scenarios += 1;
        result.caps.skippedForCap += skippedForCap;
        const ours = attempts.slice(n);
        result.caps.heldByCap += ours.filter((a, i) => i > 0 && a.at !== free.attempts[i]?.at).length;
        result.caps.charges += ours.length - 1;
        const breaches = sequenceBreaches(attempts, policy, zone, failedAt).slice(n);
        const wasted = tally(result, ours, breaches, `${card.token}, ${pattern.label}, failed ${failedAt.toISOString()}`);
        result.wasted += wasted;
        result.caps.wasted += wasted;
      }
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Part 2: charge attempts per recovered case, under a stated model of issuers.

/** Mulberry32: a small seeded PRNG, so the model's figures are the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every assumption of the model, rendered beside the figures. */
export const MODEL = {
  seed: 13,
  cases: 4000,
  /** Failures spread uniformly over this year, at any time of day, across the five calendars. */
  year: 2026,
  /** The mix of failures, by the sandbox card that stands for each. */
  mix: [
    { share: 0.45, kind: 'insufficient funds', cards: ['pm_card_visa_chargeDeclinedInsufficientFunds', 'pm_card_visa_chargeDeclinedVelocityLimitExceeded'] },
    { share: 0.2, kind: 'try again later', cards: ['pm_card_visa_chargeDeclined', 'pm_card_visa_chargeDeclinedDoNotHonor', 'pm_card_visa_chargeDeclinedTryAgainLater', 'pm_card_mastercard_chargeDeclinedTryAgainLater'] },
    { share: 0.05, kind: 'network names a wait (Mastercard 24–30)', cards: retryAfterTokens() },
    { share: 0.05, kind: 'processing error', cards: ['pm_card_chargeDeclinedProcessingError', 'pm_card_visa_chargeDeclinedIssuerNotAvailable', 'pm_card_visa_chargeDeclinedReenterTransaction'] },
    { share: 0.15, kind: 'hard decline', cards: ['pm_card_visa_chargeDeclinedLostCard', 'pm_card_visa_chargeDeclinedStolenCard', 'pm_card_visa_chargeDeclinedDoNotTryAgain', 'pm_card_radarBlock', 'pm_card_mastercard_chargeDeclinedDoNotTryAgain', 'pm_card_mastercard_chargeDeclinedPaymentCancelled'] },
    { share: 0.1, kind: 'needs the customer', cards: ['pm_card_chargeDeclinedExpiredCard', 'pm_card_chargeDeclinedIncorrectCvc', 'pm_card_authenticationRequired', 'pm_card_mastercard_chargeDeclinedNewAccountInformation'] },
  ],
  /** Insufficient funds: the customer's payday, and whether the money arrives on it. */
  paydays: { firstOfMonth: 0.3, fifteenth: 0.3, lastBusinessDay: 0.4, arrives: 0.6 },
  /** Try again later: the card passes from N hours after the failure, N uniform in this range, for this share of cards. */
  tryAgainLater: { passes: 0.7, minHours: 12, maxHours: 120 },
  /** The network named a wait: the card passes once it is over, for this share of cards. */
  namedWait: { passes: 0.8 },
  /** A processing error: each later charge passes with this probability, independently. */
  processingError: { passes: 0.9 },
  /** A charge that would pass, made outside the customer's business hours, passes only with this probability. */
  outsideHours: 0.6,
} as const;

function retryAfterTokens(): string[] {
  return TEST_CARDS.filter((c) => c.decline?.network_advice_code && /^(2[4-9]|30)$/.test(c.decline.network_advice_code)).map((c) => c.token);
}

/** One failed renewal of the modelled population, and when (if ever) its card would pass. */
interface ModelCase {
  kind: string;
  card: TestCard;
  failure: Classification;
  zoneLabel: string;
  failedAt: Date;
  /** Whether a charge at `at` would pass, inside business hours (before the outside-hours factor). */
  wouldPass: (at: Date, rand: () => number) => boolean;
}

function population(rand: () => number, zones: Record<string, CustomerZones>, policy: Policy): ModelCase[] {
  const labels = Object.keys(zones);
  const start = Date.UTC(MODEL.year, 0, 1);
  const span = Date.UTC(MODEL.year + 1, 0, 1) - start;
  const cases: ModelCase[] = [];
  for (let i = 0; i < MODEL.cases; i++) {
    let r = rand();
    const group = MODEL.mix.find((g) => (r -= g.share) < 0) ?? MODEL.mix[MODEL.mix.length - 1]!;
    const token = group.cards[Math.floor(rand() * group.cards.length)]!;
    const card = DECLINING_CARDS.find((c) => c.token === token);
    if (!card) throw new Error(`the model names ${token}, which is not a declining sandbox card`);
    const failure = classifyFailure(failureOf(card));
    const zoneLabel = labels[Math.floor(rand() * labels.length)]!;
    const zone = zones[zoneLabel]!;
    const failedAt = new Date(start + Math.floor((rand() * span) / 60_000) * 60_000);
    let wouldPass: ModelCase['wouldPass'];
    if (failure.class === 'hard' || failure.class === 'needs_customer' || failure.class === 'no_payment_method') {
      wouldPass = () => false;
    } else if (failure.class === 'processing_error') {
      wouldPass = (_, next) => next() < MODEL.processingError.passes;
    } else if (failure.timing === 'payday') {
      const p = rand();
      const rule = p < MODEL.paydays.firstOfMonth ? 1 : p < MODEL.paydays.firstOfMonth + MODEL.paydays.fifteenth ? 15 : 'last';
      const arrives = rand() < MODEL.paydays.arrives;
      wouldPass = (at) => arrives && paidSince(failedAt, at, rule, zone.primary, policy);
    } else if (failure.timing === 'after') {
      const from = failedAt.getTime() + (failure.afterHours ?? 0) * HOUR_MS;
      const passes = rand() < MODEL.namedWait.passes;
      wouldPass = (at) => passes && at.getTime() >= from;
    } else {
      const hours = MODEL.tryAgainLater.minHours + rand() * (MODEL.tryAgainLater.maxHours - MODEL.tryAgainLater.minHours);
      const passes = rand() < MODEL.tryAgainLater.passes;
      wouldPass = (at) => passes && at.getTime() >= failedAt.getTime() + hours * HOUR_MS;
    }
    cases.push({ kind: group.kind, card, failure, zoneLabel, failedAt, wouldPass });
  }
  return cases;
}

/** Whether the customer's payday (`rule`, a local date in `zone`) fell after the failure and by `at`. */
function paidSince(failedAt: Date, at: Date, rule: number | 'last', zone: string, policy: Policy): boolean {
  const paydays = rule === 'last' ? { daysOfMonth: [], lastBusinessDay: true } : { daysOfMonth: [rule], lastBusinessDay: false };
  // From the local midnight after the failure to `at`, a day at a time: the money arrives at the start of the payday.
  for (let t = failedAt.getTime(); t <= at.getTime() + DAY_MS; t += DAY_MS) {
    const p = localParts(new Date(t), zone);
    const dayStart = t - p.minutes * 60_000;
    if (dayStart > at.getTime()) break;
    if (dayStart <= failedAt.getTime()) continue;
    if (paydayOf(p, paydays, policy.retryTiming.window)) return true;
  }
  return false;
}

export interface StrategyResult {
  strategy: string;
  cases: number;
  recovered: number;
  recoveryRate: number;
  charges: number;
  chargesPerRecovered: number;
  /** Charges of a card whose decline was hard (never approved). */
  chargesOnHard: number;
  /** Charges of a card that only the customer can fix (they never pass in the model). */
  chargesOnNeedsCustomer: number;
  chargesOutsideHours: number;
  /** Charges that broke a rule, by the audit (`ruleBreaches`) and the end. */
  wasted: number;
  byKind: Partial<Record<BreachKind, number>>;
  /** Recovered cases by the day (after the failure) they were recovered. */
  meanDaysToRecovery: number;
}

/** Part 2: the fixed calendar and our rules over the same modelled population, with the same draws per case. */
export function chargesPerRecovery(options: { cases?: number; policy?: Policy; zones?: Record<string, CustomerZones> } = {}): { retryDays: number[]; fixed: StrategyResult; rules: StrategyResult; byKind: Record<string, { cases: number; fixed: number; rules: number }> } {
  const policy = options.policy ?? POLICY;
  const zones = options.zones ?? zoneCases(policy);
  const rand = seeded(MODEL.seed);
  const all = population(rand, zones, policy).slice(0, options.cases ?? MODEL.cases);
  const retryDays = policySteps(policy).filter((s) => s.kind === 'retry').map((s) => s.day);
  const fresh = (strategy: string): StrategyResult => ({ strategy, cases: 0, recovered: 0, recoveryRate: 0, charges: 0, chargesPerRecovered: 0, chargesOnHard: 0, chargesOnNeedsCustomer: 0, chargesOutsideHours: 0, wasted: 0, byKind: {}, meanDaysToRecovery: 0 });
  const fixed = fresh('fixed calendar');
  const rules = fresh('our rules');
  const byKind: Record<string, { cases: number; fixed: number; rules: number }> = {};

  const account = (result: StrategyResult, c: ModelCase, attempts: ChargeAttempt[], recovered: boolean) => {
    const zone = zones[c.zoneLabel]!;
    const ours = attempts.filter((a) => a.by === 'workflow');
    result.cases += 1;
    result.charges += ours.length;
    if (c.failure.class === 'hard') result.chargesOnHard += ours.length;
    if (c.failure.class === 'needs_customer') result.chargesOnNeedsCustomer += ours.length;
    result.chargesOutsideHours += ours.filter((a) => !inWindow(new Date(a.at), policy.retryTiming.window, zone.zones)).length;
    result.wasted += tally(result, attempts, sequenceBreaches(attempts, policy, zone, c.failedAt), c.card.token);
    if (recovered) {
      result.recovered += 1;
      result.meanDaysToRecovery += (Date.parse(attempts.at(-1)!.at) - c.failedAt.getTime()) / DAY_MS;
    }
  };

  for (const c of all) {
    const zone = zones[c.zoneLabel]!;
    const card = { id: c.card.token, brand: c.card.brand };
    // Each strategy draws from its own stream seeded by the case, so they meet the same luck.
    const caseSeed = Math.floor(rand() * 2 ** 32);
    const passes = (next: () => number) => (at: Date) => {
      const inside = inWindow(at, policy.retryTiming.window, zone.zones);
      return c.wouldPass(at, next) && (inside || next() < MODEL.outsideHours);
    };
    const k = (byKind[c.kind] ??= { cases: 0, fixed: 0, rules: 0 });
    k.cases += 1;

    // (a) The fixed calendar: each retry on its policy day at the failure's time of day, whatever the decline.
    const fixedPasses = passes(seeded(caseSeed));
    const attempts: ChargeAttempt[] = [{ at: c.failedAt.toISOString(), by: 'stripe', outcome: 'declined', card: card.id, brand: card.brand, failure: c.failure }];
    let recovered = false;
    for (const day of retryDays) {
      const at = momentOf(c.failedAt, day);
      const paid = fixedPasses(at);
      attempts.push({ at: at.toISOString(), by: 'workflow', outcome: paid ? 'paid' : 'declined', card: card.id, brand: card.brand, ...(paid ? {} : { failure: c.failure }), plannedFor: at.toISOString() });
      if (paid) {
        recovered = true;
        break;
      }
    }
    account(fixed, c, attempts, recovered);
    if (recovered) k.fixed += 1;

    // (b) Our rules: each retry planned by planRetry, stopping at the first charge that passes.
    const ruled = planCase({ policy, zones: zone, failedAt: c.failedAt, failure: c.failure, card, passes: passes(seeded(caseSeed)) });
    account(rules, c, ruled.attempts, ruled.recovered);
    if (ruled.recovered) k.rules += 1;
  }
  for (const r of [fixed, rules]) {
    r.recoveryRate = round(r.recovered / r.cases, 4);
    r.chargesPerRecovered = round(r.charges / Math.max(1, r.recovered), 2);
    r.meanDaysToRecovery = round(r.meanDaysToRecovery / Math.max(1, r.recovered), 1);
  }
  return { retryDays, fixed, rules, byKind };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export interface RetryTimingResult {
  startedAt: string;
  seconds: number;
  wasted: WastedResult;
  model: typeof MODEL;
  recovery: ReturnType<typeof chargesPerRecovery>;
}

export function measureRetryTiming(): RetryTimingResult {
  const started = Date.now();
  const wasted = wastedAttempts();
  const recovery = chargesPerRecovery();
  return { startedAt: new Date(started).toISOString(), seconds: round((Date.now() - started) / 1000, 1), wasted, model: MODEL, recovery };
}

async function main(): Promise<void> {
  const result = measureRetryTiming();
  const w = result.wasted;
  console.log(
    `  ${w.cards} declining cards (${Object.entries(w.classes).map(([k, v]) => `${k} ${v}`).join(', ')}), advice ${w.adviceCodes.join('/')}, network advice ${w.networkAdviceCodes.join('/')}; ` +
      `${w.scenarios} scenarios (${w.zones.length} calendars × ${w.moments} moments), ${w.charges} charges checked; cap scenario: ${w.caps.scenarios} scenarios, ${w.caps.charges} charges`,
  );
  console.log(`  wasted attempts: ${w.wasted}${w.examples.length ? `\n    ${w.examples.join('\n    ')}` : ''}`);
  for (const r of [result.recovery.fixed, result.recovery.rules]) {
    console.log(`  ${r.strategy}: recovered ${(r.recoveryRate * 100).toFixed(1)}% of ${r.cases}, ${r.chargesPerRecovered} charges per recovered case, ${r.chargesOnHard} charges of hard-declined cards, ${r.wasted} wasted`);
  }
  const { emitResult } = await import('./lib.ts');
  emitResult(result);
  if (w.wasted > 0) {
    console.error(`retry-timing: ${w.wasted} wasted attempts (target 0)`);
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
