// The workflow port: a case's Step Functions execution (or the local runtime's engine), started, stopped,
// described and redriven by name.

export interface Workflow {
  /** Starts the case's execution; a second start with the same name returns the first one. */
  start(name: string, input: WorkflowInput): Promise<{ executionArn: string }>;
  /** Stops a running execution; does nothing if it has already ended. */
  stop(executionArn: string, cause: string): Promise<void>;
  /** The ARN the execution named `name` has (or would have) in this workflow's state machine. */
  executionArn(name: string): string;
  /** An execution's status now; undefined when it does not exist (or has aged out of Step Functions). */
  describe(executionArn: string): Promise<ExecutionReport | undefined>;
  /** The state an ended execution stopped in (the last state it entered), read from its history. */
  lastState(executionArn: string): Promise<string | undefined>;
  /**
   * Restarts a failed, timed-out or aborted execution from the state it stopped in, with that
   * state's input (Step Functions' RedriveExecution). Throws ExecutionNotRedrivableError when Step
   * Functions refuses (running, succeeded, older than 14 days) and ExecutionNotFoundError.
   */
  redrive(executionArn: string): Promise<void>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** What DescribeExecution says about an execution, as far as the product reads it. */
export interface ExecutionReport {
  executionArn: string;
  status: ExecutionStatus;
  /** How many times it was redriven: 0 until the first redrive. */
  redriveCount: number;
  /** Step Functions' word on whether RedriveExecution would accept it, and why not. */
  redrivable: boolean;
  redriveStatusReason?: string;
  /** The execution's input as it was started (JSON). */
  input?: string;
  error?: string;
  cause?: string;
}

/** The input of one execution. Kept small: stages read the case from the store. */
export interface WorkflowInput {
  invoiceId: string;
  /** The case's policy: a definition of several policies starts with a Choice on it. */
  policy?: string;
}
