// CDK entry: `npx cdk synth` / `npx cdk deploy`. DUNNING_POLICY_FILE picks the policy, the sender
// comes from `-c sender=billing@acme.com` or DUNNING_SENDER, Reply-To from `-c replyTo=…` or
// DUNNING_REPLY_TO (comma-separated), and the alarms' email subscription from
// `-c alarmEmail=oncall@acme.com` or DUNNING_ALARM_EMAIL.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_POLICY_FILE, loadPolicySetFile } from '#shared/policy/load.ts';
import { DunningStack } from './stacks/dunning-stack.ts';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

const policy = loadPolicySetFile(process.env.DUNNING_POLICY_FILE ?? DEFAULT_POLICY_FILE);
const sender = String(app.node.tryGetContext('sender') ?? process.env.DUNNING_SENDER ?? 'dunning@example.com');
const replyTo = String(app.node.tryGetContext('replyTo') ?? process.env.DUNNING_REPLY_TO ?? '')
  .split(',')
  .map((address) => address.trim())
  .filter(Boolean);
const alarmEmail = app.node.tryGetContext('alarmEmail') ?? process.env.DUNNING_ALARM_EMAIL;

new DunningStack(app, 'Dunning', {
  dunning: { policy, email: { sender, replyTo: replyTo.length ? replyTo : undefined } },
  alarmEmail: alarmEmail ? String(alarmEmail) : undefined,
});
