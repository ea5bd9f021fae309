// Section 4, the cost model: AWS list prices applied to what one case costs down each path, as the
// paths run measured it (transitions, invocations, DynamoDB units, emails) with the storm's durations.
import { SECRET_MAX_AGE_SECONDS } from '#shared/adapters/secrets.ts';
import type { PathMeasurement } from './paths.ts';

/**
 * us-east-1 list prices, on-demand, free tiers ignored. Checked in November 2026 against the pages
 * named on each line (the AWS pricing pages render their tables from tokens, so some figures were
 * read from worked examples or the AWS Price List API; see BENCHMARKS.md section 4).
 */
export const PRICES = {
  asOf: '2026-11 (checked against aws.amazon.com/<service>/pricing and the AWS Price List, us-east-1)',
  /** Step Functions Standard, per state transition ($0.025 per 1,000). */
  transition: 0.025 / 1000,
  /** Lambda arm64, per GB-second, first pricing tier ($0.0000133334; x86 is $0.0000166667). */
  lambdaGbSecond: 0.0000133334,
  /** Lambda, per request ($0.20 per million). */
  lambdaRequest: 0.2 / 1e6,
  /** DynamoDB on-demand, per write request unit ($0.625 per million, since the cut of 1 November 2024). */
  writeUnit: 0.625 / 1e6,
  /** DynamoDB on-demand, per read request unit ($0.125 per million, since the same cut). */
  readUnit: 0.125 / 1e6,
  /** SES outbound email, à la carte ($0.10 per 1,000 recipients), data transfer and attachments aside. */
  email: 0.1 / 1000,
  /**
   * SES outbound email on the Essentials plan ($0.16 per 1,000 up to 10 million a month), which the
   * AWS Price List shows from July 2026 as the default for new SES accounts; à la carte stays the
   * default for accounts that have sent through SES since June 2025.
   */
  emailEssentials: 0.16 / 1000,
  /** Secrets Manager API calls ($0.05 per 10,000); the $0.40 per secret-month is fixed, not per case. */
  secretCall: 0.05 / 10_000,
  /**
   * SQS FIFO, per request of up to 64 KB ($0.50 per million; standard queues $0.40), as listed on
   * aws.amazon.com/sqs/pricing. Not re-read in December 2026: no AWS page is reachable from this
   * machine. Lambda's pollers also long-poll an empty queue, about $0.30 a month per mapping
   * whatever the traffic: fixed, not per case.
   */
  sqsFifoRequest: 0.5 / 1e6,
} as const;

/**
 * SQS requests per Stripe event on the webhook path: the webhook's SendMessage, the poller's
 * ReceiveMessage and DeleteMessage, counted as if each event were received alone (a batch shares one
 * receive and one delete among up to 10). Events route-events receives, one per invocation here.
 */
export const SQS_REQUESTS_PER_EVENT = 3;

/**
 * The traffic the Secrets Manager line is modelled at: failed renewals (cases) a month, spread evenly.
 * 1,000 a month is a small business (say 20,000 monthly subscriptions, 5% failing).
 */
export const MODELLED_CASES_PER_MONTH = Number(process.env.BENCH_CASES_PER_MONTH ?? 1000);

/**
 * How long a container keeps a secret: Powertools Parameters' cache (SECRET_MAX_AGE_SECONDS in
 * shared/config.ts) for the link key, read per link; and the same age for the dependencies built
 * with the Stripe key and the webhook secret, which are built again once older (lambda-deps `once`).
 */
export const SECRET_REUSE_SECONDS = SECRET_MAX_AGE_SECONDS;

export interface FunctionFacts {
  memoryMb: number;
  /** Mean measured duration of one invocation (ms). */
  durationMs: number;
  /** Secrets the function reads (each cached 5 minutes per container). */
  secrets: number;
}

export interface PathCost {
  path: string;
  transitions: number;
  invocations: number;
  gbSeconds: number;
  writeUnits: number;
  readUnits: number;
  emails: number;
  /** Secrets Manager calls per case, as modelled at MODELLED_CASES_PER_MONTH. */
  secretCalls: number;
  /** Secrets Manager calls per case if every invocation fetched every secret its function reads. */
  secretCallsEveryInvocation: number;
  /**
   * Dollars per 1,000 cases, by service and all-in (Secrets Manager as modelled, SES à la carte);
   * and all-in twice more: with a secret fetch on every invocation, and with SES Essentials.
   */
  per1000: {
    stepFunctions: number;
    lambda: number;
    dynamodb: number;
    ses: number;
    secretsManager: number;
    /** The event queue behind the webhook (SQS_REQUESTS_PER_EVENT per routed event). */
    sqs: number;
    total: number;
    totalFetchEveryInvocation: number;
    totalSesEssentials: number;
  };
}

/**
 * Secrets Manager calls per invocation for a function invoked `perSecond` times a second, evenly
 * (Poisson) and by one container: after a fetch the secret serves every invocation for
 * SECRET_REUSE_SECONDS, then the next invocation fetches it again. Over one cycle that is one fetch
 * per 1 + perSecond × SECRET_REUSE_SECONDS invocations: 1 when the function is rarely called, and
 * falling as traffic grows. Concurrent invocations each open a container that fetches for itself,
 * so a burst counts more; invocations bunched in time (Stripe sends several events per failure) count
 * fewer. Neither is modelled.
 */
export function secretFetchesPerInvocation(perSecond: number): number {
  return 1 / (1 + perSecond * SECRET_REUSE_SECONDS);
}

const SECONDS_PER_MONTH = 30 * 24 * 3600;

/**
 * One case down `path`, priced. Each function's invocation rate, for the Secrets Manager model, is
 * its invocations on this path times MODELLED_CASES_PER_MONTH, as if every case went down this path.
 */
export function costOf(path: PathMeasurement, functions: Record<string, FunctionFacts>, casesPerMonth = MODELLED_CASES_PER_MONTH): PathCost {
  let invocations = 0;
  let gbSeconds = 0;
  let secretCalls = 0;
  let secretCallsEveryInvocation = 0;
  for (const [name, count] of Object.entries(path.invocations)) {
    const facts = functions[name];
    if (!facts) throw new Error(`no memory size or duration known for ${name}`);
    invocations += count;
    // Lambda bills duration rounded up to the millisecond.
    gbSeconds += count * (facts.memoryMb / 1024) * (Math.ceil(facts.durationMs) / 1000);
    secretCallsEveryInvocation += count * facts.secrets;
    secretCalls += count * facts.secrets * secretFetchesPerInvocation((count * casesPerMonth) / SECONDS_PER_MONTH);
  }
  const k = 1000;
  const stepFunctions = k * path.transitions * PRICES.transition;
  const lambda = k * (gbSeconds * PRICES.lambdaGbSecond + invocations * PRICES.lambdaRequest);
  const dynamodb = k * (path.dynamo.writeUnits * PRICES.writeUnit + path.dynamo.readUnits * PRICES.readUnit);
  const ses = k * path.emails * PRICES.email;
  const secretsManager = k * secretCalls * PRICES.secretCall;
  const sqs = k * (path.invocations['route-events'] ?? 0) * SQS_REQUESTS_PER_EVENT * PRICES.sqsFifoRequest;
  const total = stepFunctions + lambda + dynamodb + ses + secretsManager + sqs;
  return {
    path: path.path,
    transitions: path.transitions,
    invocations,
    gbSeconds,
    writeUnits: path.dynamo.writeUnits,
    readUnits: path.dynamo.readUnits,
    emails: path.emails,
    secretCalls,
    secretCallsEveryInvocation,
    per1000: {
      stepFunctions,
      lambda,
      dynamodb,
      ses,
      secretsManager,
      sqs,
      total,
      totalFetchEveryInvocation: total - secretsManager + k * secretCallsEveryInvocation * PRICES.secretCall,
      totalSesEssentials: total - ses + k * path.emails * PRICES.emailEssentials,
    },
  };
}
