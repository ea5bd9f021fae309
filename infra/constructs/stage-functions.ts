// The three Lambdas the state machine invokes, each with only what its stage needs:
// send-notice and close-case send email, retry-payment only talks to Stripe and the table.
import type { RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '#shared/config.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import type { StageFunctionArns } from '#shared/workflow/definition.ts';
import { DunningFunction, TABLE_ITEM_ACCESS, type DunningFunctionName } from './dunning-function.ts';
import type { NoticeEmail } from './notice-email.ts';

export interface StageFunctionsProps {
  /** The validated policy file (every policy, segments, alsoNotify), bundled into each function. */
  readonly policies: PolicySet;
  /** The dunning table; every stage reads and writes its case. */
  readonly table: ITable;
  /** The Stripe API key secret; every stage reads the invoice or subscription. */
  readonly stripeApiKey: ISecret;
  /** The notice sender; granted to send-notice and close-case only. */
  readonly email: NoticeEmail;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class StageFunctions extends Construct {
  /** Sends a notice email and writes the My Account banner. */
  readonly sendNotice: DunningFunction;
  /** Retries the invoice's payment; returns `{ outcome: 'paid' | 'declined' }`. */
  readonly retryPayment: DunningFunction;
  /** Recovers, terminates (cancels the subscription, sends the end email) or flags a case. */
  readonly closeCase: DunningFunction;

  constructor(scope: Construct, id: string, props: StageFunctionsProps) {
    super(scope, id);
    /** Every stage bundles the policy and reads and writes its case and the invoice in Stripe. */
    const stage = (id: string, name: DunningFunctionName, description: string) =>
      new DunningFunction(this, id, { name, description, policies: props.policies, logRetention: props.logRetention, logRemovalPolicy: props.logRemovalPolicy })
        .bindTable(props.table, TABLE_ITEM_ACCESS)
        .bindSecret(ENV.stripeApiKeySecretArn, props.stripeApiKey);

    this.sendNotice = stage('SendNotice', 'send-notice', 'Dunning stage: sends a notice email and writes the My Account banner').bindEmail(props.email);
    this.retryPayment = stage('RetryPayment', 'retry-payment', "Dunning stage: retries the invoice's payment in Stripe");
    this.closeCase = stage('CloseCase', 'close-case', 'Dunning stage: recovers, terminates (cancels and emails) or flags a case').bindEmail(props.email);
  }

  /** The ARNs `buildDefinition` puts in the Task states. */
  get arns(): StageFunctionArns {
    return {
      sendNotice: this.sendNotice.functionArn,
      retryPayment: this.retryPayment.functionArn,
      closeCase: this.closeCase.functionArn,
    };
  }

  /** All three, for grants and alarms. */
  get all(): DunningFunction[] {
    return [this.sendNotice, this.retryPayment, this.closeCase];
  }
}
