// IAM as AWS evaluates it, for the local runtime: is this principal, with these policies, allowed to
// perform this action on this resource, in this context? The evaluation is @cloud-copilot/iam-simulate,
// an independent implementation of AWS's policy logic (wildcards, conditions, explicit denies), not
// ours: a home-made evaluator would share our misreadings of IAM and agree with our grants.
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from './deployment.ts';

/** Who makes the call: a function's role session, or the state machine's role. */
export interface IamPrincipal {
  /** The name the report uses: a function name, or `state-machine`. */
  name: string;
  /** What AWS names in an AccessDenied message: `arn:aws:sts::<account>:assumed-role/<role>/<session>`. */
  sessionArn: string;
  policies: ReadonlyArray<{ name: string; document: PolicyDocument }>;
}

/** One authorization AWS makes for a request (a request may need several: SES checks identity and configuration set). */
export interface IamRequest {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

export type IamDecision =
  | { allowed: true }
  | { allowed: false; message: string };

export class IamEvaluator {
  private readonly cache = new Map<string, Promise<IamDecision>>();

  constructor(private readonly account: string) {}

  /** Every request must be allowed; the first that is not is the answer, in AWS's words. */
  async authorize(principal: IamPrincipal, requests: readonly IamRequest[]): Promise<IamDecision> {
    for (const request of requests) {
      const decision = await this.decide(principal, request);
      if (!decision.allowed) return decision;
    }
    return { allowed: true };
  }

  private decide(principal: IamPrincipal, request: IamRequest): Promise<IamDecision> {
    const key = JSON.stringify([principal.sessionArn, request.action, request.resource, request.context ?? {}]);
    let decision = this.cache.get(key);
    if (!decision) {
      decision = this.simulate(principal, request);
      this.cache.set(key, decision);
    }
    return decision;
  }

  private async simulate(principal: IamPrincipal, request: IamRequest): Promise<IamDecision> {
    const response = await runSimulation(
      {
        identityPolicies: principal.policies.map((p) => ({ name: p.name, policy: p.document as never })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          action: request.action,
          principal: principal.sessionArn,
          resource: { accountId: this.account, resource: request.resource },
          contextVariables: request.context ?? {},
        },
      },
      {},
    );
    if (response.resultType === 'error') {
      // An action or resource IAM does not know is a bug of ours (the local check), not a denial.
      throw new Error(`IAM simulation of ${request.action} on ${request.resource} failed: ${JSON.stringify(response.errors)}`);
    }
    if (response.overallResult === 'Allowed') return { allowed: true };
    const why =
      response.overallResult === 'ExplicitlyDenied'
        ? 'with an explicit deny in an identity-based policy'
        : `because no identity-based policy allows the ${request.action} action`;
    return {
      allowed: false,
      message: `User: ${principal.sessionArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`,
    };
  }
}
