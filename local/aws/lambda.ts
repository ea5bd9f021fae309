// Lambda for the local runtime: each function runs in worker threads of its own, one container per
// worker, with exactly the environment the template gives it (plus what Lambda itself sets, and the
// loopback endpoints), its own module instances and caches, its timeout and its memory. A container
// takes one invocation at a time; a busy function starts another container, up to a cap, and
// invocations beyond it wait their turn. Invocation and error counts go to the local CloudWatch under
// AWS/Lambda, as AWS records them, so the stack's Errors alarms can be evaluated.
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { DunningFunctionName } from '#infra/constructs/dunning-function.ts';
import type { LocalMetrics } from './cloudwatch.ts';
import type { FunctionSpec } from './deployment.ts';
import type { ContainerData, FromContainer, LambdaError, ToContainer } from './lambda-worker.ts';

/** A function's failure as its invoker sees it: `name` is Lambda's errorType, which Retry and Catch match. */
export class FunctionError extends Error {
  constructor(
    readonly functionName: string,
    readonly error: LambdaError,
    /** How long the handler ran before it failed, when it ran at all. */
    readonly durationMs?: number,
  ) {
    super(error.errorMessage);
    this.name = error.errorType;
    this.stack = [`${error.errorType}: ${error.errorMessage}`, ...error.trace.slice(1)].join('\n');
  }
}

/** One line a function wrote, as its log group holds it. */
export interface FunctionLogLine {
  functionName: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface LocalLambdaOptions {
  functions: ReadonlyMap<DunningFunctionName, FunctionSpec>;
  /** What each function's environment gets beyond the template: Lambda's own variables, credentials, endpoints. */
  runtimeEnvironment: (spec: FunctionSpec) => Record<string, string>;
  metrics: LocalMetrics;
  /** Each line a function writes (after EMF metrics are taken out of it). */
  onLog?: (line: FunctionLogLine) => void;
  /** Each message of an asynchronous invocation that failed every retry, with its on-failure queue. */
  onDeadLetter?: (message: { spec: FunctionSpec; event: unknown; error: Error }) => void;
  /**
   * Whether Lambda may write a container's log stream with the function's role (asked once per
   * container); when not, its lines are lost, as in AWS. @default - always
   */
  mayWriteLogs?: (spec: FunctionSpec, logStreamName: string) => Promise<boolean>;
  /** Containers per function at most. @default 4 */
  maxContainers?: number;
  /** Delay before each retry of a failed asynchronous invocation (Lambda waits minutes). @default [50, 100] */
  asyncRetryDelaysMs?: readonly number[];
}

const BOOT = new URL('./lambda-worker-boot.mjs', import.meta.url);

/** What an invocation returned (JSON text), and how long its handler ran (what Lambda bills). */
export interface Answer {
  payload: string;
  durationMs: number;
}

interface Pending {
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
}

class Container {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  busy = false;
  dead = false;
  private pending?: Pending & { id: number };
  private nextId = 1;
  private partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  /** Whether its lines reach the log group; undefined until known, while lines wait. */
  private logs?: boolean;
  private early: Array<['stdout' | 'stderr', string]> = [];

  constructor(
    readonly spec: FunctionSpec,
    environment: Record<string, string>,
    logsAllowed: Promise<boolean>,
    private readonly onLine: (stream: 'stdout' | 'stderr', line: string) => void,
    private readonly onDeath: (container: Container) => void,
  ) {
    const data: ContainerData = {
      entry: spec.entry,
      handlerExport: 'handler',
      functionName: spec.functionName,
      functionArn: spec.arn,
      memorySize: spec.memorySize,
      logGroupName: spec.logGroup.name,
      logStreamName: environment.AWS_LAMBDA_LOG_STREAM_NAME ?? randomUUID(),
      bundledPolicyJson: spec.bundledPolicyJson,
    };
    this.worker = new Worker(BOOT, {
      workerData: data,
      env: environment,
      // Nothing of the host process's flags (its TypeScript loader, a debugger) leaks in.
      execArgv: [],
      // The function's memory setting bounds its heap: a function that needs more fails here too.
      resourceLimits: { maxOldGenerationSizeMb: spec.memorySize },
      stdout: false,
      stderr: false,
    });
    let settleReady!: { resolve: () => void; reject: (error: Error) => void };
    const started = new Promise<void>((resolve, reject) => (settleReady = { resolve, reject }));
    const decided = logsAllowed.then((allowed) => {
      this.logs = allowed;
      if (allowed) for (const [stream, line] of this.early) this.onLine(stream, line);
      this.early = [];
    });
    // Ready once started and once it is known where its output goes, so lines keep their order.
    this.ready = Promise.all([started, decided]).then(() => undefined);
    this.ready.catch(() => undefined);
    this.worker.on('message', (message: FromContainer) => {
      switch (message.type) {
        case 'ready':
          return settleReady.resolve();
        case 'init-error':
          this.kill();
          return settleReady.reject(new FunctionError(spec.functionName, message.error));
        case 'output':
          return this.output(message.stream, message.text);
        case 'result':
          return this.settle(message.id, (p) => p.resolve({ payload: message.payload, durationMs: message.durationMs }));
        case 'error':
          return this.settle(message.id, (p) => p.reject(new FunctionError(spec.functionName, message.error, message.durationMs)));
      }
    });
    const crash = (errorType: string, errorMessage: string) => {
      if (this.dead) return;
      this.dead = true;
      const error = new FunctionError(spec.functionName, { errorType, errorMessage, trace: [] });
      settleReady.reject(error);
      this.pending?.reject(error);
      this.pending = undefined;
      this.onDeath(this);
    };
    this.worker.on('error', (error: Error & { code?: string }) =>
      crash(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'Runtime.OutOfMemory' : 'Runtime.ExitError', `RequestId: ${this.requestId} Error: ${error.message}`),
    );
    this.worker.on('exit', (code) => crash('Runtime.ExitError', `RequestId: ${this.requestId} Error: Runtime exited with error: exit status ${code}`));
  }

  private requestId = '';

  invoke(event: string): Promise<Answer> {
    const id = this.nextId++;
    this.requestId = randomUUID();
    const deadline = Date.now() + this.spec.timeoutSeconds * 1000;
    return new Promise<Answer>((resolve, reject) => {
      this.pending = { id, resolve, reject };
      const timer = setTimeout(() => {
        // Lambda stops the sandbox at the timeout; its next invocation gets a fresh one.
        const error = new FunctionError(this.spec.functionName, {
          errorType: 'Sandbox.Timedout',
          errorMessage: `RequestId: ${this.requestId} Error: Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`,
          trace: [],
        }, this.spec.timeoutSeconds * 1000);
        this.pending?.reject(error);
        this.pending = undefined;
        this.kill();
      }, this.spec.timeoutSeconds * 1000);
      timer.unref();
      const clear = () => clearTimeout(timer);
      this.pending.resolve = (answer) => (clear(), resolve(answer));
      this.pending.reject = (error) => (clear(), reject(error));
      const message: ToContainer = { type: 'invoke', id, event, requestId: this.requestId, deadline };
      this.worker.postMessage(message);
    });
  }

  private settle(id: number, act: (pending: Pending) => void): void {
    if (!this.pending || this.pending.id !== id) return;
    const pending = this.pending;
    this.pending = undefined;
    act(pending);
  }

  private output(stream: 'stdout' | 'stderr', text: string): void {
    const lines = (this.partial[stream] + text).split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim() || this.logs === false) continue;
      if (this.logs === undefined) this.early.push([stream, line]);
      else this.onLine(stream, line);
    }
  }

  kill(): void {
    if (this.dead) return;
    this.dead = true;
    this.onDeath(this);
    void this.worker.terminate();
  }
}

class FunctionPool {
  private readonly containers = new Set<Container>();
  private readonly waiting: Array<(container: Container) => void> = [];

  constructor(
    readonly spec: FunctionSpec,
    private readonly options: LocalLambdaOptions,
    private readonly max: number,
  ) {}

  async invoke(event: string): Promise<Answer> {
    const container = await this.acquire();
    try {
      await container.ready;
      return await container.invoke(event);
    } finally {
      this.release(container);
    }
  }

  private acquire(): Promise<Container> {
    for (const container of this.containers) {
      if (!container.busy && !container.dead) {
        container.busy = true;
        return Promise.resolve(container);
      }
    }
    if (this.containers.size < this.max) {
      const container = this.start();
      container.busy = true;
      return Promise.resolve(container);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(container: Container): void {
    container.busy = false;
    const next = this.waiting.shift();
    if (!next) return;
    if (container.dead) {
      const fresh = this.start();
      fresh.busy = true;
      next(fresh);
      return;
    }
    container.busy = true;
    next(container);
  }

  private start(): Container {
    const environment = { ...this.spec.environment, ...this.options.runtimeEnvironment(this.spec) };
    // Lambda writes the container's output to its log group with the function's role: no right to, no logs.
    const logsAllowed = this.options.mayWriteLogs?.(this.spec, environment.AWS_LAMBDA_LOG_STREAM_NAME ?? '') ?? Promise.resolve(true);
    const container = new Container(
      this.spec,
      environment,
      logsAllowed,
      (stream, line) => {
        if (this.options.metrics.ingestLogLine(line, this.spec.functionName)) return;
        this.options.onLog?.({ functionName: this.spec.functionName, stream, line });
      },
      (dead) => this.containers.delete(dead),
    );
    this.containers.add(container);
    return container;
  }

  /** Starts one container ahead of any invocation (as provisioned concurrency does). */
  async warm(): Promise<void> {
    if (this.containers.size > 0) return;
    await this.start().ready;
  }

  async close(): Promise<void> {
    const all = [...this.containers];
    this.containers.clear();
    await Promise.all(all.map((c) => c.worker.terminate()));
  }
}

export class LocalLambda {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly byArn = new Map<string, FunctionPool>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: LocalLambdaOptions) {
    for (const spec of options.functions.values()) {
      const pool = new FunctionPool(spec, options, options.maxContainers ?? 4);
      this.pools.set(spec.name, pool);
      this.byArn.set(spec.arn, pool);
    }
  }

  has(name: string): boolean {
    return this.pools.has(name);
  }

  spec(name: DunningFunctionName): FunctionSpec {
    return this.pool(name).spec;
  }

  /** The function deployed under `arn`, for the state machine's Task states. */
  nameOf(arn: string): DunningFunctionName | undefined {
    return this.byArn.get(arn)?.spec.name;
  }

  /**
   * A synchronous (RequestResponse) invocation: the event is sent as JSON, the result comes back
   * parsed from JSON, and a function error rejects with a FunctionError named by its errorType.
   */
  async invoke<R = unknown>(name: DunningFunctionName, event: unknown): Promise<R> {
    return (await this.invokeMeasured<R>(name, event)).output;
  }

  /** `invoke`, with how long the handler ran: the duration Lambda bills, which the cost model reads. */
  invokeMeasured<R = unknown>(name: DunningFunctionName, event: unknown): Promise<{ output: R; durationMs: number }> {
    const pool = this.pool(name);
    const run = (async () => {
      if (this.closed) throw new Error(`the local runtime is closing; ${name} was not invoked`);
      const payload = JSON.stringify(event ?? null);
      const dimensions = { FunctionName: pool.spec.functionName };
      const record = (metric: string, value: number, unit: string) => this.options.metrics.put({ namespace: 'AWS/Lambda', name: metric, dimensions, value, unit });
      record('Invocations', 1, 'Count');
      try {
        const answer = await pool.invoke(payload);
        record('Duration', answer.durationMs, 'Milliseconds');
        return { output: JSON.parse(answer.payload) as R, durationMs: answer.durationMs };
      } catch (error) {
        record('Errors', 1, 'Count');
        if (error instanceof FunctionError && error.durationMs !== undefined) record('Duration', error.durationMs, 'Milliseconds');
        throw error;
      }
    })();
    this.track(run);
    return run;
  }

  /**
   * An asynchronous (Event) invocation, as EventBridge and SNS make: Lambda retries a failed one
   * (its EventInvokeConfig's MaximumRetryAttempts), then sends it to its on-failure destination.
   */
  invokeAsync(name: DunningFunctionName, event: unknown): void {
    const spec = this.pool(name).spec;
    const delays = this.options.asyncRetryDelaysMs ?? [50, 100];
    const run = (async () => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          await this.invoke(name, event);
          return;
        } catch (error) {
          if (attempt >= spec.asyncInvoke.retryAttempts || this.closed) {
            this.options.onDeadLetter?.({ spec, event, error: error as Error });
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, delays[Math.min(attempt, delays.length - 1)]));
        }
      }
    })();
    this.track(run);
  }

  /**
   * Starts a container of each function (or of `names`) and waits until each has imported its
   * handler: cold starts then stay out of what a measurement times.
   */
  async warm(names?: readonly DunningFunctionName[]): Promise<void> {
    await Promise.all([...this.pools.values()].filter((pool) => !names || names.includes(pool.spec.name)).map((pool) => pool.warm()));
  }

  /** Resolves once no invocation is in flight (a stopped execution's stage may still be running). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(run: Promise<unknown>): void {
    this.inFlight.add(run);
    void run.catch(() => undefined).finally(() => this.inFlight.delete(run));
  }

  private pool(name: string): FunctionPool {
    const pool = this.pools.get(name);
    if (!pool) throw new Error(`no function ${name} is deployed (see the template the local runtime synthesized)`);
    return pool;
  }

  /** Lets invocations in flight finish (as long as `graceMs`), then stops every container. */
  async close(graceMs = 10_000): Promise<void> {
    this.closed = true;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
  }
}
