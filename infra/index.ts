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
