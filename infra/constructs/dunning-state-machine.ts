// The dunning state machine, deployed from exactly the definition shared/workflow/definition.ts
// generates from the policy: the local runtime runs the same document, so a policy change is a
// config change in both places, never a code change here.
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { PolicySet } from '#shared/policy/segments.ts';
import { buildDefinition, type StageFunction, type StateMachineDefinition } from '#shared/workflow/definition.ts';

export interface DunningStateMachineProps {
  /** The validated policy file the definition is generated from: one state machine runs every policy. */
  readonly policies: PolicySet;
  /** The stage Lambdas the Task states invoke; the role may invoke these and nothing else. */
  readonly stages: Readonly<Record<StageFunction, IFunction>>;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class DunningStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  /** The generated definition, with the function ARNs as tokens. */
  readonly definition: StateMachineDefinition;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: DunningStateMachineProps) {
    super(scope, id);
    const { sendNotice, retryPayment, closeCase } = props.stages;
    this.definition = buildDefinition(props.policies, {
      sendNotice: sendNotice.functionArn,
      retryPayment: retryPayment.functionArn,
      closeCase: closeCase.functionArn,
    });

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      // Standard, not Express: one execution waits through the whole policy (weeks), and each
      // stage must run exactly once.
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(Stack.of(this).toJsonString(this.definition)),
      // Executions are few and long; ALL with data is what makes "why did this customer get that
      // email" answerable from the logs.
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });

    // Task states name the unqualified function ARNs, so that is all the role gets: no `:*` versions.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [sendNotice.functionArn, retryPayment.functionArn, closeCase.functionArn],
      }),
    );
  }
}
