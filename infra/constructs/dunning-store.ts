// The single DynamoDB table: cases, their timelines, the My Account notices and the processed
// Stripe event records, laid out by shared/adapters/table.ts so AWS and the local runtime agree.
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { CASES_BY_CUSTOMER, OPEN_CASES, TABLE_KEYS, UNPUBLISHED_EVENTS } from '#shared/adapters/table.ts';

export interface DunningStoreProps {
  /**
   * What happens to the table when it leaves the stack. Cases are the audit trail of money owed, so
   * the default keeps them. @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class DunningStore extends Table {
  constructor(scope: Construct, id: string, props: DunningStoreProps = {}) {
    super(scope, id, {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      // Traffic is a trickle of webhooks and stage calls with bursts on renewal days: on-demand.
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // KMS with the AWS managed key: every use is in CloudTrail, with no key policy to keep in step
      // and no kms:Decrypt grant on every function. Access is already scoped by IAM on the table.
      encryption: TableEncryption.AWS_MANAGED,
      // Only processed-event records carry it; readers also treat expired records as absent.
      timeToLiveAttribute: TABLE_KEYS.ttlAttribute,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      // The outbox's fast path: each new timeline entry that publishes an event reaches the
      // publisher within a second (infra/constructs/event-publisher.ts). The new image lets the
      // event source mapping's filter pass only those entries.
      stream: StreamViewType.NEW_IMAGE,
    });
    this.addGlobalSecondaryIndex({
      indexName: CASES_BY_CUSTOMER.indexName,
      partitionKey: { name: CASES_BY_CUSTOMER.partitionKey, type: AttributeType.STRING },
      sortKey: { name: CASES_BY_CUSTOMER.sortKey, type: AttributeType.STRING },
    });
    // Sparse: only open cases carry its key (see OPEN_CASES).
    this.addGlobalSecondaryIndex({
      indexName: OPEN_CASES.indexName,
      partitionKey: { name: OPEN_CASES.partitionKey, type: AttributeType.STRING },
      sortKey: { name: OPEN_CASES.sortKey, type: AttributeType.STRING },
    });
    // Sparse: only timeline entries whose event is not published yet carry its key (see UNPUBLISHED_EVENTS).
    this.addGlobalSecondaryIndex({
      indexName: UNPUBLISHED_EVENTS.indexName,
      partitionKey: { name: UNPUBLISHED_EVENTS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: UNPUBLISHED_EVENTS.sortKey, type: AttributeType.STRING },
    });
  }
}
