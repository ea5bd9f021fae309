// The My Account banner API (GET /customers/{id}/notice) for the company's own backend. The
// Function URL requires SigV4 (AWS_IAM): only principals granted with grantInvoke() can call it.
import { CfnOutput, type RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DunningFunction } from './dunning-function.ts';

export interface NoticeApiProps {
  /** The dunning table; the API only reads it. */
  readonly table: ITable;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class NoticeApi extends Construct {
  readonly handler: DunningFunction;
  readonly functionUrl: FunctionUrl;
  /** Base URL; the backend calls `${url}customers/{id}/notice`, signed with SigV4 for service `lambda`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: NoticeApiProps) {
    super(scope, id);
    // No policy bundled and no secrets or email: reading the banner needs nothing but the table.
    this.handler = new DunningFunction(this, 'GetNotice', {
      name: 'get-notice',
      description: "Dunning: answers a customer's current My Account notice",
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    })
      // The banner and its case, by key: read-only (shared/dunning/current-banner.ts never writes).
      .bindTable(props.table, ['dynamodb:GetItem']);

    this.functionUrl = this.handler.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
    this.url = this.functionUrl.url;
    new CfnOutput(this, 'Url', {
      value: this.url,
      description: 'My Account notice API (AWS_IAM): GET <url>customers/{customerId}/notice',
    });
  }

  /** Lets the company's backend (a role, a user) call the API. */
  grantInvoke(grantee: IGrantable): Grant {
    return this.functionUrl.grantInvokeUrl(grantee);
  }
}
