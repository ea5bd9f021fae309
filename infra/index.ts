// What a user of this package imports: the DunningWorkflow construct and the ready-made stack.
export {
  DunningWorkflow,
  type DunningAlarmsOptions,
  type DunningEmailProps,
  type DunningEventBridgeProps,
  type DunningFunctions,
  type DunningIngestProps,
  type DunningSecretsProps,
  type DunningWorkflowProps,
} from './dunning-workflow.ts';
export { DunningStack, acknowledgeNagFindings, type DunningStackProps } from './stacks/dunning-stack.ts';
export { RECORDED_EMAIL_EVENTS, type EmailTrackingProps } from './constructs/email-events.ts';
// The policy loader: reads and validates a policy file for DunningWorkflowProps.policy.
export { DEFAULT_POLICY_FILE, loadPolicyFile, loadPolicySetFile, parsePolicy, parsePolicySet } from '#shared/policy/load.ts';
export { PolicyError } from '#shared/policy/errors.ts';
export type { Policy, PolicyInput } from '#shared/policy/schema.ts';
export type { PolicySet, PolicySetInput } from '#shared/policy/segments.ts';
