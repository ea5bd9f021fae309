// The events for the merchant's own systems (CRM, support desk, Slack, warehouse): the outbox
// relay. Timeline entries that record a state change are written pending (an outbox the stages
// already write); the table's stream hands each new one to `publish-events` within a second, which
// puts its event on the bus and only then marks it published. A sweep every minute publishes what
// the stream path could not (the bus refused it, the function crashed), so no event is lost.
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { FilterCriteria, FilterRule } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { EventBus, Rule, Schedule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { UNPUBLISHED_EVENTS } from '#shared/adapters/table.ts';
import { DunningFunction } from './dunning-function.ts';

export interface EventPublisherProps {
  /** The dunning table, with its stream (NEW_IMAGE) on. */
  readonly table: ITable;
  /**
   * The bus the events go to: yours (the default bus, or one shared by your systems), or one in
   * another account. @default a new bus, `<stack>-dunning-events`
   */
  readonly eventBus?: IEventBus;
  /**
   * How often the sweep publishes what the stream path could not. An event the bus refused waits at
   * most about this long plus a minute. @default Duration.minutes(1)
   */
  readonly sweepInterval?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class EventPublisher extends Construct {
  readonly handler: DunningFunction;
  readonly eventBus: IEventBus;
  readonly sweep: Rule;

  constructor(scope: Construct, id: string, props: EventPublisherProps) {
    super(scope, id);
    this.eventBus = props.eventBus ?? new EventBus(this, 'Bus', { description: 'Dunning: case events for your own systems (source stripe-dunning)' });
    this.handler = new DunningFunction(this, 'PublishEvents', {
      name: 'publish-events',
      description: 'Dunning: publishes case events from the outbox to the event bus',
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    })
      // An entry and its case, by key; an entry leaves the outbox with one UpdateItem.
      .bindTable(props.table, ['dynamodb:GetItem', 'dynamodb:UpdateItem'])
      .bindTableIndex(props.table, UNPUBLISHED_EVENTS.indexName, ['dynamodb:Query'])
      .bindEventBus(this.eventBus);

    this.handler.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.LATEST,
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(0),
        // Only a new entry that is owed an event wakes the function.
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { [UNPUBLISHED_EVENTS.partitionKey]: { S: FilterRule.isEqual(UNPUBLISHED_EVENTS.value) } } },
          }),
        ],
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        // The sweep is the safety net: the stream retries a few times, then leaves the rest to it.
        retryAttempts: 3,
        maxRecordAge: Duration.hours(1),
      }),
    );

    this.sweep = new Rule(this, 'Sweep', {
      description: 'Publishes the dunning events still in the outbox',
      schedule: Schedule.rate(props.sweepInterval ?? Duration.minutes(1)),
      // A failed sweep is not worth retrying: the next one, a minute later, does the same work.
      targets: [new LambdaFunction(this.handler, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
  }
}
