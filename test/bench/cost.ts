// Section 4, the cost model: AWS list prices applied to what one case costs down each path, as the
// paths run measured it (transitions, invocations, DynamoDB units, emails) with the storm's durations.
import type { PathMeasurement } from './paths.ts';

/** us-east-1 list prices, on-demand, free tiers ignored. */
export const PRICES = {
  asOf: '2025-06 (aws.amazon.com/<service>/pricing, us-east-1)',
  /** Step Functions Standard, per state transition ($0.025 per 1,000). */
  transition: 0.025 / 1000,
  /** Lambda arm64, per GB-second, first pricing tier. */
  lambdaGbSecond: 0.0000133334,
  /** Lambda, per request ($0.20 per million). */
  lambdaRequest: 0.2 / 1e6,
  /** DynamoDB on-demand, per write request unit ($0.625 per million, since the November 2024 cut). */
  writeUnit: 0.625 / 1e6,
  /** DynamoDB on-demand, per read request unit ($0.125 per million). */
  readUnit: 0.125 / 1e6,
  /** SES outbound email ($0.10 per 1,000), data transfer and attachments aside. */
  email: 0.1 / 1000,
  /** Secrets Manager API calls ($0.05 per 10,000); the $0.40 per secret-month is fixed, not per case. */
  secretCall: 0.05 / 10_000,
} as const;

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
  secretCalls: number;
  /** Dollars per 1,000 cases, by service and all-in. */
  per1000: { stepFunctions: number; lambda: number; dynamodb: number; ses: number; secretsManager: number; total: number };
}

/**
 * Secrets Manager, the assumption: each invocation of a function that reads secrets finds its
 * container's 5-minute cache expired, so it fetches each of them once. Cases spread over two weeks
 * rarely share a warm container within 5 minutes, so this is close to the worst case; under load
 * (many cases a minute) containers stay warm and the real number is far lower.
 */
export function costOf(path: PathMeasurement, functions: Record<string, FunctionFacts>): PathCost {
  let invocations = 0;
  let gbSeconds = 0;
  let secretCalls = 0;
  for (const [name, count] of Object.entries(path.invocations)) {
    const facts = functions[name];
    if (!facts) throw new Error(`no memory size or duration known for ${name}`);
    invocations += count;
    // Lambda bills duration rounded up to the millisecond.
    gbSeconds += count * (facts.memoryMb / 1024) * (Math.ceil(facts.durationMs) / 1000);
    secretCalls += count * facts.secrets;
  }
  const k = 1000;
  const stepFunctions = k * path.transitions * PRICES.transition;
  const lambda = k * (gbSeconds * PRICES.lambdaGbSecond + invocations * PRICES.lambdaRequest);
  const dynamodb = k * (path.dynamo.writeUnits * PRICES.writeUnit + path.dynamo.readUnits * PRICES.readUnit);
  const ses = k * path.emails * PRICES.email;
  const secretsManager = k * secretCalls * PRICES.secretCall;
  return {
    path: path.path,
    transitions: path.transitions,
    invocations,
    gbSeconds,
    writeUnits: path.dynamo.writeUnits,
    readUnits: path.dynamo.readUnits,
    emails: path.emails,
    secretCalls,
    per1000: { stepFunctions, lambda, dynamodb, ses, secretsManager, total: stepFunctions + lambda + dynamodb + ses + secretsManager },
  };
}
