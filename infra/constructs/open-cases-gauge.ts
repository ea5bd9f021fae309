// The open-cases gauge: a function on a schedule that counts the open cases at each stage (from
// the table's sparse open-cases index) and emits `OpenCases`, which the dashboard graphs by stage.
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { OPEN_CASES } from '#shared/adapters/table.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import { DunningFunction } from './dunning-function.ts';

export interface OpenCasesGaugeProps {
  /** The dunning table; the function may only query its open-cases index. */
  readonly table: ITable;
  /** The validated policy file: its stages are the gauge's Stage values, zeros included. */
  readonly policies: PolicySet;
  /**
   * How often the open cases are counted; also the period to graph `OpenCases` at. Each count
   * reads every open case once (a query of the index, 1 read unit per 4 KB of cases).
   * @default Duration.minutes(5)
   */
  readonly interval?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class OpenCasesGauge extends Construct {
  readonly handler: DunningFunction;
  readonly rule: Rule;
  /** How often the gauge is emitted: graph it at this period, with the Maximum statistic. */
  readonly interval: Duration;

  constructor(scope: Construct, id: string, props: OpenCasesGaugeProps) {
    super(scope, id);
    this.interval = props.interval ?? Duration.minutes(5);
    this.handler = new DunningFunction(this, 'CountOpenCases', {
      name: 'count-open-cases',
      description: 'Dunning gauge: counts the open cases at each stage and emits the OpenCases metric',
      policies: props.policies,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    }).bindTableIndex(props.table, OPEN_CASES.indexName, ['dynamodb:Query']);

    this.rule = new Rule(this, 'Schedule', {
      description: 'Counts the open dunning cases at each stage',
      schedule: Schedule.rate(this.interval),
      targets: [
        // Each count is a complete picture: a failed one is not worth retrying once the next is due.
        new LambdaFunction(this.handler, { retryAttempts: 0, maxEventAge: Duration.minutes(Math.max(1, Math.min(this.interval.toMinutes(), 5))) }),
      ],
    });
  }
}
