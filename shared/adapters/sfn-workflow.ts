// The Workflow on AWS Step Functions: one execution per invoice, named so a redelivered webhook
// finds the execution it already started instead of starting a second one.
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  RedriveExecutionCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { ExecutionNotFoundError, ExecutionNotRedrivableError } from '../domain/errors.ts';
import type { ExecutionReport, ExecutionStatus, Workflow, WorkflowInput } from '../domain/ports.ts';
import { errorName } from './aws-errors.ts';

/** History pages read back from the end for the last state entered (retries add events, not states). */
const HISTORY_PAGES = 5;

/** StopExecution's `cause` is capped at 32,768 characters. */
const CAUSE_MAX = 32_768;

/**
 * The ARN an execution named `name` of this state machine has:
 * arn:aws:states:r:a:stateMachine:X → arn:aws:states:r:a:execution:X:name.
 */
export function executionArnFor(stateMachineArn: string, name: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length < 7 || parts[5] !== 'stateMachine') {
    throw new Error(`not a state machine ARN: ${stateMachineArn}`);
  }
  return [...parts.slice(0, 5), 'execution', ...parts.slice(6), name].join(':');
}

/**
 * Throttling and 5xx are rethrown as they come: the webhook answers 500 and Stripe redelivers,
 * which is the retry this path needs.
 */
export class StepFunctionsWorkflow implements Workflow {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(name: string, input: WorkflowInput): Promise<{ executionArn: string }> {
    try {
      const out = await this.client.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return { executionArn: out.executionArn ?? executionArnFor(this.stateMachineArn, name) };
    } catch (err) {
      // Names are unique per state machine for 90 days, so the name identifies the first start.
      if (errorName(err) === 'ExecutionAlreadyExists') {
        return { executionArn: executionArnFor(this.stateMachineArn, name) };
      }
      throw err;
    }
  }

  async stop(executionArn: string, cause: string): Promise<void> {
    try {
      await this.client.send(new StopExecutionCommand({ executionArn, cause: cause.slice(0, CAUSE_MAX) }));
    } catch (err) {
      const name = errorName(err);
      if (name === 'ExecutionDoesNotExist') return;
      // Stopping an execution that has ended may be refused; only a running one is worth an error.
      if (name === 'ValidationException' && !(await this.isRunning(executionArn))) return;
      throw err;
    }
  }

  executionArn(name: string): string {
    return executionArnFor(this.stateMachineArn, name);
  }

  async describe(executionArn: string): Promise<ExecutionReport | undefined> {
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return {
        executionArn,
        status: (out.status ?? 'RUNNING') as ExecutionStatus,
        redriveCount: out.redriveCount ?? 0,
        redrivable: out.redriveStatus === 'REDRIVABLE',
        ...(out.redriveStatusReason ? { redriveStatusReason: out.redriveStatusReason } : {}),
        ...(out.input !== undefined ? { input: out.input } : {}),
        ...(out.error ? { error: out.error } : {}),
        ...(out.cause ? { cause: out.cause } : {}),
      };
    } catch (err) {
      if (errorName(err) === 'ExecutionDoesNotExist') return undefined;
      throw err;
    }
  }

  async lastState(executionArn: string): Promise<string | undefined> {
    let nextToken: string | undefined;
    for (let page = 0; page < HISTORY_PAGES; page++) {
      const out = await this.client.send(
        new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 100, includeExecutionData: false, nextToken }),
      );
      const entered = out.events?.find((event) => event.stateEnteredEventDetails?.name);
      if (entered) return entered.stateEnteredEventDetails!.name;
      nextToken = out.nextToken;
      if (!nextToken) return undefined;
    }
    return undefined;
  }

  async redrive(executionArn: string): Promise<void> {
    try {
      await this.client.send(new RedriveExecutionCommand({ executionArn }));
    } catch (err) {
      const name = errorName(err);
      if (name === 'ExecutionNotRedrivable') throw new ExecutionNotRedrivableError((err as Error).message);
      if (name === 'ExecutionDoesNotExist') throw new ExecutionNotFoundError((err as Error).message);
      throw err;
    }
  }

  private async isRunning(executionArn: string): Promise<boolean> {
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return out.status === 'RUNNING' || out.status === 'PENDING_REDRIVE';
    } catch (err) {
      if (errorName(err) === 'ExecutionDoesNotExist') return false;
      throw err;
    }
  }
}
