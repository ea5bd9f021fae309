// CDK entry: `npx cdk synth` / `npx cdk deploy`. DUNNING_POLICY_FILE picks the policy, the sender
// comes from `-c sender=billing@acme.com` or DUNNING_SENDER (required), Reply-To from `-c replyTo=…`
// or DUNNING_REPLY_TO (comma-separated), and the alarms' email subscription from
// `-c alarmEmail=oncall@acme.com` or DUNNING_ALARM_EMAIL, the request budget from DUNNING_STRIPE_BUDGET
// and DUNNING_EMAIL_BUDGET (or `-c stripeBudget=40/10 -c emailBudget=10`). A setting that would deploy undeliverable
// mail stops the synth with one line naming the fix (see deploy-settings.ts).
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { errorReport, exitCodeOf, wantsStack } from '#shared/command-line.ts';
import { DEFAULT_POLICY_FILE, loadPolicySetFile } from '#shared/policy/load.ts';
import { checkDeployablePolicy, readDeploySettings } from './deploy-settings.ts';
import { DunningStack } from './stacks/dunning-stack.ts';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

try {
  const { sender, replyTo, alarmEmail, budget } = readDeploySettings((key) => app.node.tryGetContext(key), process.env);
  const file = process.env.DUNNING_POLICY_FILE ?? DEFAULT_POLICY_FILE;
  const policy = loadPolicySetFile(file);
  checkDeployablePolicy(policy, file === DEFAULT_POLICY_FILE ? 'the bundled default policy (no DUNNING_POLICY_FILE)' : file);
  new DunningStack(app, 'Dunning', { dunning: { policy, email: { sender, replyTo }, budget }, alarmEmail });
} catch (error) {
  process.stderr.write(`${errorReport(error, wantsStack(process.argv, process.env))}\n`);
  process.exit(exitCodeOf(error));
}
