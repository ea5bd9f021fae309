// What the dunning use cases need from the outside world, injected so Lambda and the local
// runtime run the same code against different endpoints.
import type { CaseStore, Clock, EventBus, Log, Mailer, MetricsSink, PaymentGateway, PaymentLinks, Workflow } from '../domain/ports.ts';
import type { DunningCase } from '../domain/case.ts';
import type { CaseClock } from '../domain/case-clock.ts';
import { InvalidInputError } from '../domain/errors.ts';
import type { Policy } from '../policy/schema.ts';
import { DEFAULT_POLICY_NAME, type PolicySet } from '../policy/segments.ts';
import { noMetrics } from './metrics.ts';

export type { Log, LogFields, MetricsSink } from '../domain/ports.ts';
export type { MetricName } from '../domain/metrics.ts';

export interface DunningDeps {
  /** The `default` policy: for what belongs to no case (pre-dunning), and cases without a policy. */
  policy: Policy;
  /**
   * Every policy of the file, its segments and alsoNotify. Omitted, the file is `policy` alone.
   * Read a case's policy with `policyOf`, never `policy`.
   */
  policies?: PolicySet;
  /** Every store port; each use case names the ones it calls (see `Uses`). */
  store: CaseStore;
  /** Every Stripe port; each use case names the ones it calls. */
  stripe: PaymentGateway;
  mailer: Mailer;
  /** Makes the signed one-click "update payment details" links the notices carry. */
  links: PaymentLinks;
  clock: Clock;
  /**
   * A case's business clock: the times its retries are planned in and its Waits are set from. The
   * wall clock in AWS (the default); locally the compressed one, a policy day per DUNNING_DAY_MS.
   */
  caseClock?: (dunningCase: Pick<DunningCase, 'createdAt' | 'failedAt' | 'clockAnchor'>) => CaseClock;
  log: Log;
  metrics: MetricsSink;
}

export interface IngestDeps extends DunningDeps {
  workflow: Workflow;
  /** Whether the deployment's Stripe key is live; events of the other mode are ignored. */
  livemode: boolean;
}

/** What a use case may take besides the store and Stripe. */
type Services = Omit<IngestDeps, 'store' | 'stripe'> & {
  /** The merchant's event bus: the publisher alone has it (shared/dunning/publish-events.ts). */
  bus: EventBus;
};

/**
 * A use case's dependencies, typed by what it touches: the services it names, then the store ports
 * (`store`) and the Stripe ports (`stripe`) it calls, e.g. `Uses<'clock' | 'log', Cases & Timeline>`.
 * The wiring passes the whole DunningDeps; a signature shows what the flow reaches, and a test's fake
 * needs only those members.
 */
export type Uses<K extends keyof Services, Store = never, Gateway = never> = Pick<Services, K> &
  ([Store] extends [never] ? unknown : { store: Store }) &
  ([Gateway] extends [never] ? unknown : { stripe: Gateway });

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
export { noMetrics };

/**
 * The policy a case runs: the one the router chose when it opened the case. A case opened before
 * policies could be chosen has none recorded, and runs `default`. A name the deployed file no longer
 * has is an error (the stage fails, and the case is flagged for a person), never a silent fallback:
 * another policy's emails would be wrong.
 */
export function policyOf(deps: Uses<'policy' | 'policies'>, dunningCase: Pick<DunningCase, 'policy' | 'invoiceId'> | undefined): Policy {
  return policyNamed(deps, dunningCase?.policy, dunningCase?.invoiceId);
}

export function policyNamed(deps: Uses<'policy' | 'policies'>, name: string | undefined, invoiceId?: string): Policy {
  if (name === undefined || name === DEFAULT_POLICY_NAME) return deps.policy;
  const policy = deps.policies?.policies[name];
  if (!policy) {
    const known = Object.keys(deps.policies?.policies ?? { [DEFAULT_POLICY_NAME]: deps.policy });
    throw new InvalidInputError(`${invoiceId ? `case ${invoiceId}: ` : ''}no policy named "${name}" in the deployed policy file (it has ${known.map((n) => `"${n}"`).join(', ')})`);
  }
  return policy;
}
