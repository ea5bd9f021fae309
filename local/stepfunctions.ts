// Step Functions on loopback: runs the generated definition in aws-local-stepfunctions and answers
// the subset of the Step Functions JSON API the product uses, so the webhook's SFNClient is unchanged.
import './polyfills.ts';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { executionArnFor } from '#shared/adapters/sfn-workflow.ts';
import { EXECUTION_STATUS_CHANGE, type ExecutionStatusChangeEvent } from '#shared/dunning/failed-execution.ts';
import { PATIENT_ERRORS } from '#shared/domain/errors.ts';
import { listen, serviceOf } from './http-service.ts';
import { StateMachine } from 'aws-local-stepfunctions';
import {
  SECONDS_PER_DAY,
  taskStates,
  waitStates,
  type StateMachineDefinition,
} from '#shared/workflow/definition.ts';

export type TaskHandler = (input: unknown) => Promise<unknown>;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface LocalExecution {
  executionArn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  /** Times RedriveExecution restarted it. */
  redriveCount: number;
  redriveDate?: Date;
  /** The last state it entered, with that state's input: where a redrive starts. */
  lastState?: { name: string; input: unknown };
  /** GetExecutionHistory's events, oldest first (states entered, redrives, the end). */
  history: Array<Record<string, unknown>>;
  done: Promise<void>;
}

export interface LocalStepFunctionsOptions {
  definition: StateMachineDefinition;
  stateMachineArn: string;
  /** Handlers by the Task's Resource ARN; every Task state must have one. */
  handlers: Record<string, TaskHandler>;
  /** Milliseconds one policy day lasts. */
  dayMs: number;
  /** Milliseconds between attempts of a retried Task (Retry intervals are compressed too). */
  retryIntervalMs?: number;
  port?: number;
  host?: string;
  /** Called as each execution ends (for the demo's timeline and for tests). */
  onExecutionEnd?: (execution: LocalExecution) => void;
}

export interface LocalStepFunctions {
  readonly endpoint: string;
  readonly executions: ReadonlyMap<string, LocalExecution>;
  /**
   * Starts an execution at `startAt` instead of the definition's StartAt. Only for carrying an
   * execution across a restart of the local runtime; AWS keeps executions durable by itself.
   */
  resume(name: string, input: unknown, startAt: string): LocalExecution;
  /** Resolves when no execution is running. */
  idle(): Promise<void>;
  /** Makes the next `count` calls of `action` fail as AWS does under load (for fault tests). */
  injectFault(fault: { action: string; error: 'ThrottlingException' | 'ServiceUnavailable'; count: number }): void;
  close(): Promise<void>;
}

class SfnApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

/** The longest timer Node can hold (setTimeout takes a signed 32-bit millisecond count). */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export async function startLocalStepFunctions(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
  const { stateMachineArn, handlers, dayMs } = options;
  // The execution timeout is a backstop in real time locally too; past Node's longest timer, the
  // engine would fire it at once, so it is held at that (almost 25 days: never reached locally).
  const definition = { ...options.definition, TimeoutSeconds: Math.min(options.definition.TimeoutSeconds, MAX_TIMER_SECONDS) };
  const machine = new StateMachine(definition as never, { validationOptions: { checkPaths: true, checkArn: true } });

  const taskResourceLocalHandlers: Record<string, TaskHandler> = {};
  for (const task of taskStates(definition)) {
    const handler = handlers[task.resource];
    if (!handler) throw new Error(`no local handler bound to ${task.resource} (state ${task.name})`);
    taskResourceLocalHandlers[task.name] = handler;
  }
  // The definition is the deployed one; only its clock is compressed, state by state. A wait shorter
  // than a day is a paused stage's poll (`<stage>Paused`): floored like the polling retrier below,
  // so a paused case never spins the one thread every service shares.
  const waitTimeOverrides: Record<string, number> = {};
  for (const wait of waitStates(definition)) {
    waitTimeOverrides[wait.name] = wait.days < 1 ? Math.max(20, Math.round(wait.days * dayMs)) : Math.round(wait.days * dayMs);
  }
  // Per retrier: backoff after a fault is compressed to a few milliseconds, but a retrier that polls
  // on a policy schedule (a paused case looks again every policy hour) keeps its place in policy time.
  const retryIntervalOverrides: Record<string, number[]> = {};
  /** Locally, the pause between attempts of a rate-limited stage: real time, as the limits are. */
  const PATIENT_RETRY_LOCAL_MS = 250;
  const faultRetryMs = options.retryIntervalMs ?? Math.max(20, Math.round((dayMs / SECONDS_PER_DAY) * 5));
  for (const [name, state] of Object.entries(definition.States)) {
    if (!Array.isArray(state.Retry)) continue;
    retryIntervalOverrides[name] = (state.Retry as Array<{ ErrorEquals?: string[]; IntervalSeconds?: number; BackoffRate?: number }>).map((retrier) =>
      retrier.BackoffRate === 1 && (retrier.IntervalSeconds ?? 0) >= 60
        ? Math.max(20, Math.round(((retrier.IntervalSeconds ?? 0) * dayMs) / SECONDS_PER_DAY))
        : // A rate limit is in real seconds, policy days or not: its retries keep a real pause.
          retrier.ErrorEquals?.some((error) => PATIENT_ERRORS.includes(error))
          ? Math.max(faultRetryMs, PATIENT_RETRY_LOCAL_MS)
          : faultRetryMs,
    );
  }

  const executions = new Map<string, LocalExecution>();
  const aborters = new Map<string, () => void>();

  function startExecution(body: { stateMachineArn?: string; name?: string; input?: string }, startAt?: string) {
    if (body.stateMachineArn !== stateMachineArn) {
      throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${body.stateMachineArn}'`);
    }
    const name = body.name ?? randomUUID();
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
    const input = body.input ?? '{}';
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new SfnApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }
    const executionArn = executionArnFor(stateMachineArn, name);
    const existing = executions.get(executionArn);
    if (existing) {
      // Standard workflows: the same name and input while running returns the running execution.
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    if (startAt && !definition.States[startAt]) throw new SfnApiError('InvalidDefinition', `no state ${startAt} to resume at`);
    const execution: LocalExecution = {
      executionArn,
      name,
      input,
      status: 'RUNNING',
      startDate: new Date(),
      redriveCount: 0,
      history: [],
      done: Promise.resolve(),
    };
    executions.set(executionArn, execution);
    launch(execution, parsedInput, startAt);
    return execution;
  }

  /** Runs `execution` from `startAt` (default: the definition's StartAt) with `input`. */
  function launch(execution: LocalExecution, input: unknown, startAt?: string) {
    // The definition was validated above; a copy starting mid-way leaves earlier states unreachable.
    const runner = startAt ? new StateMachine({ ...definition, StartAt: startAt } as never, { validationOptions: { noValidate: true } }) : machine;
    const run = runner.run(input as never, {
      overrides: { taskResourceLocalHandlers: taskResourceLocalHandlers as never, waitTimeOverrides, retryIntervalOverrides },
      noThrowOnAbort: true,
      context: {
        Execution: { Id: execution.executionArn, Name: execution.name, Input: JSON.parse(execution.input), StartTime: execution.startDate.toISOString() },
      } as never,
    });
    // The state the execution is in, and its input: where a redrive picks it up again.
    void (async () => {
      for await (const event of run.eventLogs) {
        if (event.type !== 'StateEntered') continue;
        execution.lastState = { name: event.state.name, input: event.state.input };
        record(execution, `${event.state.type}StateEntered`, { stateEnteredEventDetails: { name: event.state.name } });
      }
    })();
    execution.done = run.result.then(
      (output) => {
        if (execution.status === 'RUNNING') {
          execution.status = 'SUCCEEDED';
          execution.output = JSON.stringify(output ?? null);
          record(execution, 'ExecutionSucceeded', {});
        }
      },
      (error: Error & { cause?: Error }) => {
        if (execution.status !== 'RUNNING') return;
        const cause = error.cause ?? error;
        execution.status = cause.name === 'StatesTimeoutError' ? 'TIMED_OUT' : 'FAILED';
        execution.error = (cause as { name?: string }).name ?? 'Error';
        execution.cause = cause.message;
        record(execution, execution.status === 'FAILED' ? 'ExecutionFailed' : 'ExecutionTimedOut', {
          executionFailedEventDetails: { error: execution.error, cause: execution.cause },
        });
      },
    ).finally(() => {
      execution.stopDate ??= new Date();
      aborters.delete(execution.executionArn);
      options.onExecutionEnd?.(execution);
    });
    aborters.set(execution.executionArn, run.abort);
  }

  function record(execution: LocalExecution, type: string, details: Record<string, unknown>) {
    const id = execution.history.length + 1;
    execution.history.push({ id, previousEventId: id - 1, timestamp: epoch(new Date()), type, ...details });
  }

  /** RedriveExecution: the same execution (ARN, name, input) runs again from the state it stopped in. */
  function redriveExecution(body: { executionArn?: string }) {
    const execution = executions.get(body.executionArn ?? '');
    if (!execution) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
    const reason = notRedrivableReason(execution);
    if (reason) throw new SfnApiError('ExecutionNotRedrivable', `Execution ${execution.executionArn} cannot be redriven: ${reason}`);
    const from = execution.lastState!;
    execution.status = 'RUNNING';
    execution.redriveCount += 1;
    execution.redriveDate = new Date();
    for (const key of ['stopDate', 'output', 'error', 'cause'] as const) delete execution[key];
    record(execution, 'ExecutionRedriven', { executionRedrivenEventDetails: { redriveCount: execution.redriveCount } });
    launch(execution, from.input, from.name);
    return { redriveDate: epoch(execution.redriveDate) };
  }

  function stopExecution(body: { executionArn?: string; cause?: string; error?: string }) {
    const execution = executions.get(body.executionArn ?? '');
    if (!execution) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
    if (execution.status === 'RUNNING') {
      execution.status = 'ABORTED';
      execution.stopDate = new Date();
      execution.error = body.error;
      execution.cause = body.cause;
      record(execution, 'ExecutionAborted', {});
      aborters.get(execution.executionArn)?.();
    }
    return { stopDate: epoch(execution.stopDate ?? new Date()) };
  }

  function describe(execution: LocalExecution) {
    return {
      executionArn: execution.executionArn,
      stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: epoch(execution.startDate),
      ...(execution.stopDate ? { stopDate: epoch(execution.stopDate) } : {}),
      redriveCount: execution.redriveCount,
      ...(execution.redriveDate ? { redriveDate: epoch(execution.redriveDate) } : {}),
      ...redriveStatus(execution),
      input: execution.input,
      ...(execution.output !== undefined ? { output: execution.output } : {}),
      ...(execution.error ? { error: execution.error } : {}),
      ...(execution.cause ? { cause: execution.cause } : {}),
    };
  }

  const actions: Record<string, (body: Record<string, unknown>) => unknown> = {
    StartExecution: (body) => {
      const e = startExecution(body as never);
      return { executionArn: e.executionArn, startDate: epoch(e.startDate) };
    },
    StopExecution: (body) => stopExecution(body as never),
    RedriveExecution: (body) => redriveExecution(body as never),
    // The history as far as the product reads it: each state entered, redrives, and the end.
    GetExecutionHistory: (body) => {
      const execution = executions.get(String(body.executionArn));
      if (!execution) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(body.executionArn)}'`);
      const events = body.reverseOrder === true ? [...execution.history].reverse() : execution.history;
      return { events };
    },
    DescribeExecution: (body) => {
      const execution = executions.get(String(body.executionArn));
      if (!execution) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(body.executionArn)}'`);
      return describe(execution);
    },
    ListExecutions: (body) => ({
      executions: [...executions.values()]
        .filter((e) => !body.statusFilter || e.status === body.statusFilter)
        .map((e) => ({ executionArn: e.executionArn, stateMachineArn, name: e.name, status: e.status, startDate: epoch(e.startDate) })),
    }),
    DescribeStateMachine: () => ({
      stateMachineArn,
      name: stateMachineArn.split(':').pop(),
      status: 'ACTIVE',
      definition: JSON.stringify(definition),
      type: 'STANDARD',
      roleArn: 'arn:aws:iam::000000000000:role/local',
      creationDate: epoch(new Date(0)),
    }),
  };

  const faults: Array<{ action: string; error: string; remaining: number }> = [];
  const server: Server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(body));
    };
    try {
      const fn = actions[action];
      if (req.method !== 'POST' || !fn) throw new SfnApiError('UnknownOperationException', `Unsupported operation: ${target || req.method}`);
      const fault = faults.find((f) => f.action === action && f.remaining > 0);
      if (fault) {
        fault.remaining -= 1;
        throw fault.error === 'ThrottlingException'
          ? new SfnApiError('ThrottlingException', 'Rate exceeded', 400)
          : new SfnApiError('ServiceUnavailable', 'Service Unavailable', 503);
      }
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      reply(200, fn(body));
    } catch (error) {
      if (error instanceof SfnApiError) reply(error.statusCode, { __type: error.type, message: error.message });
      else reply(500, { __type: 'InternalFailure', message: (error as Error).message });
    }
  }

  await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const service = serviceOf(server);

  return {
    endpoint: service.endpoint,
    executions,
    injectFault: (fault) => faults.push({ action: fault.action, error: fault.error, remaining: fault.count }),
    resume: (name, input, startAt) => startExecution({ stateMachineArn, name, input: JSON.stringify(input) }, startAt),
    async idle() {
      for (;;) {
        const running = [...executions.values()].filter((e) => e.status === 'RUNNING');
        if (running.length === 0) return;
        await Promise.all(running.map((e) => e.done));
      }
    },
    async close() {
      for (const [arn, abort] of aborters) {
        const execution = executions.get(arn);
        if (execution?.status === 'RUNNING') execution.status = 'ABORTED';
        abort();
      }
      await service.close();
    },
  };
}

/** Why RedriveExecution refuses an execution, in Step Functions' words; undefined when it accepts it. */
function notRedrivableReason(execution: LocalExecution): string | undefined {
  if (execution.status === 'RUNNING' || execution.status === 'SUCCEEDED') return `Execution is ${execution.status} and cannot be redriven`;
  if (!execution.lastState) return 'Execution never entered a state';
  return undefined;
}

function redriveStatus(execution: LocalExecution) {
  const reason = notRedrivableReason(execution);
  return reason ? { redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: reason } : { redriveStatus: 'REDRIVABLE' };
}

/**
 * The "Step Functions Execution Status Change" event EventBridge carries in AWS for an execution
 * that ended, with the same detail fields, so a local execution's end feeds the same handler.
 */
export function statusChangeEvent(execution: LocalExecution, stateMachineArn: string): ExecutionStatusChangeEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': EXECUTION_STATUS_CHANGE,
    source: 'aws.states',
    account: stateMachineArn.split(':')[4] ?? '',
    time: (execution.stopDate ?? new Date()).toISOString(),
    region: stateMachineArn.split(':')[3] ?? '',
    resources: [execution.executionArn],
    detail: {
      executionArn: execution.executionArn,
      stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate.getTime(),
      stopDate: execution.stopDate?.getTime() ?? null,
      input: execution.input,
      inputDetails: { included: true },
      output: execution.output ?? null,
      outputDetails: execution.output === undefined ? null : { included: true },
      error: execution.error ?? null,
      cause: execution.cause ?? null,
      redriveCount: execution.redriveCount,
      redriveDate: execution.redriveDate?.getTime() ?? null,
      ...redriveStatus(execution),
    },
  };
}

function epoch(date: Date): number {
  return date.getTime() / 1000;
}
