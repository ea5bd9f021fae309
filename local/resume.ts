// Executions live in the runtime's process, so a restart with DUNNING_DATA_DIR would strand every
// open case: this carries them over.
import type { CaseStore } from '#shared/domain/ports.ts';
import { DEFAULT_POLICY_NAME } from '#shared/policy/segments.ts';
import { policyStateName, type StateMachineDefinition } from '#shared/workflow/definition.ts';
import type { LocalStepFunctions } from './stepfunctions.ts';

/**
 * Executions live in this process, so a restart with DUNNING_DATA_DIR would strand every open case.
 * Each resumes at the last stage that began: re-running it is safe, because a claimed notice is not
 * sent again and a retried payment replays its Stripe idempotency key.
 */
export async function resumeOpenCases(store: CaseStore, stepFunctions: LocalStepFunctions, definition: StateMachineDefinition): Promise<number> {
  const open = (await store.listOpenCases()).filter((c) => c.executionArn);
  for (const c of open) {
    const policy = c.policy ?? DEFAULT_POLICY_NAME;
    const state = c.stage && policyStateName(policy, c.stage);
    stepFunctions.resume(c.executionName, { invoiceId: c.invoiceId, policy }, state && definition.States[state] ? state : definition.StartAt);
  }
  return open.length;
}
