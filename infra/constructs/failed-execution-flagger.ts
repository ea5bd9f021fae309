// Flags the case of an execution that failed for good. Step Functions sends an "Execution Status
// Change" event to the default bus as each execution ends; a rule takes this state machine's FAILED
// and TIMED_OUT ones (never ABORTED: the product stops an execution when its case closes) to
// flag-case, which marks the case needs_attention with the failed state, error and cause. The
// execution itself stays failed at that stage, for `npx dunning redrive` once the cause is fixed.
// Whatever cannot be delivered or processed after the retries lands in a dead-letter queue.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { ENV } from '#shared/config.ts';
import { EXECUTION_STATUS_CHANGE, FLAGGED_STATUSES } from '#shared/dunning/failed-execution.ts';
import { DunningFunction } from './dunning-function.ts';

export interface FailedExecutionFlaggerProps {
  /** The dunning state machine: only its executions are watched. */
  readonly stateMachine: IStateMachine;
  /** The dunning table, where the case is flagged and its timeline written. */
  readonly table: ITable;
  /** How often EventBridge retries an event it could not hand to Lambda. @default 8 */
  readonly retryAttempts?: number;
  /** How long EventBridge keeps retrying such an event. @default Duration.hours(24) */
  readonly maxEventAge?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Applied to the log group and the dead-letter queue. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class FailedExecutionFlagger extends Construct {
  readonly handler: DunningFunction;
  readonly rule: Rule;
  /**
   * Status-change events that could not be processed: ones EventBridge failed to hand to Lambda (the
   * message is the event), and invocations that failed every attempt (a Lambda destination record,
   * the event under `requestPayload`). Invoke flag-case with the event again once the cause is fixed.
   */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: FailedExecutionFlaggerProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetterQueue', { removalPolicy });

    this.handler = new DunningFunction(this, 'FlagCase', {
      name: 'flag-case',
      description: 'Dunning: flags the case of an execution that failed or timed out needs_attention, for a person to fix and redrive',
      logRetention: props.logRetention,
      logRemovalPolicy: removalPolicy,
    })
      // Reads the case, flags it (a conditional update) and writes its timeline entry.
      .bindTable(props.table, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // It reads the execution back (a late event of an execution redriven since changes nothing) and
    // its history (the state that failed); it never starts, stops or redrives one.
    props.stateMachine.grantExecution(this.handler, 'states:DescribeExecution', 'states:GetExecutionHistory');
    this.handler.addEnvironment(ENV.stateMachineArn, props.stateMachine.stateMachineArn);

    // As with every EventBridge target: a thrown error (the table or Step Functions down) is retried
    // by Lambda, and an invocation that fails every attempt goes to the queue instead of being dropped.
    this.handler.keepFailedInvocations(this.deadLetterQueue);

    this.rule = new Rule(this, 'ExecutionFailed', {
      description: 'Dunning: executions of the dunning state machine that failed or timed out, to flag-case',
      eventPattern: {
        source: ['aws.states'],
        detailType: [EXECUTION_STATUS_CHANGE],
        detail: {
          stateMachineArn: [props.stateMachine.stateMachineArn],
          status: [...FLAGGED_STATUSES],
        },
      },
      targets: [
        new LambdaFunction(this.handler, {
          retryAttempts: props.retryAttempts ?? 8,
          maxEventAge: props.maxEventAge ?? Duration.hours(24),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
  }
}
