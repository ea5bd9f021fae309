// The alarms that mean "a person should look": an execution failed (a case was flagged
// needs_attention, or a bug) or timed out, or a function threw.
import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  TreatMissingData,
  type IAlarmAction,
  type Metric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** One evaluation window: dunning runs on day granularity, so five minutes is prompt enough. */
const PERIOD = Duration.minutes(5);

export interface DunningAlarmsProps {
  /** The dunning state machine, watched for failed and timed-out executions. */
  readonly stateMachine: IStateMachine;
  /** The functions to watch for errors, keyed by a readable name used in the alarm descriptions. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Where alarms are sent. @default - no action; the alarms show in the CloudWatch console only */
  readonly topic?: ITopic;
}

export class DunningAlarms extends Construct {
  readonly executionsFailed: Alarm;
  readonly executionsTimedOut: Alarm;
  /** One alarm per function, keyed like `props.functions`. */
  readonly functionErrors: Readonly<Record<string, Alarm>>;

  constructor(scope: Construct, id: string, props: DunningAlarmsProps) {
    super(scope, id);
    const action: IAlarmAction | undefined = props.topic ? new SnsAction(props.topic) : undefined;
    const alarm = (alarmId: string, metric: Metric, description: string): Alarm => {
      const created = new Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No executions or invocations in a window is the normal quiet state, not a failure.
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (action) created.addAlarmAction(action);
      return created;
    };

    this.executionsFailed = alarm(
      'ExecutionsFailed',
      props.stateMachine.metricFailed({ period: PERIOD, statistic: 'Sum' }),
      'A dunning execution failed: a case is flagged needs_attention (or the workflow broke). See the runbook.',
    );
    this.executionsTimedOut = alarm(
      'ExecutionsTimedOut',
      props.stateMachine.metricTimedOut({ period: PERIOD, statistic: 'Sum' }),
      'A dunning execution outlived its policy by a week: a Wait or a stage is stuck.',
    );
    this.functionErrors = Object.fromEntries(
      Object.entries(props.functions).map(([name, fn]) => [
        name,
        alarm(
          `${name.charAt(0).toUpperCase()}${name.slice(1)}Errors`,
          fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
          `The dunning ${name} function threw; Step Functions retries stages, so check its logs.`,
        ),
      ]),
    );
  }
}
