// One Lambda container: a worker thread that imports one function's handler with that function's
// environment only, then runs its invocations one at a time, as Lambda's Node.js runtime does.
// Events and results arrive and leave as JSON text, so nothing but JSON crosses the boundary; a
// thrown error leaves as Lambda reports it (errorType, errorMessage, trace). What the function
// writes to stdout and stderr goes to the runtime in order, ahead of the result it precedes, as its
// log group would receive it.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

export interface ContainerData {
  entry: string;
  handlerExport: string;
  functionName: string;
  functionArn: string;
  memorySize: number;
  logGroupName: string;
  logStreamName: string;
  /** The policy file CDK compiles into this function's bundle (esbuild define), if it does. */
  bundledPolicyJson?: string;
}

export type ToContainer = { type: 'invoke'; id: number; event: string; requestId: string; deadline: number };

export type FromContainer =
  | { type: 'ready' }
  | { type: 'init-error'; error: LambdaError }
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'result'; id: number; payload: string; durationMs: number }
  | { type: 'error'; id: number; error: LambdaError; durationMs: number };

/** An error as Lambda's Node.js runtime reports a handler's failure. */
export interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

const port = parentPort!;
const data = workerData as ContainerData;
const post = (message: FromContainer) => port.postMessage(message);

for (const stream of ['stdout', 'stderr'] as const) {
  const target = process[stream];
  target.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
    post({ type: 'output', stream, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8') });
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as typeof target.write;
}

// esbuild replaces `process.env.DUNNING_POLICY_JSON` in the bundle CDK deploys; the sources read it here.
if (data.bundledPolicyJson !== undefined) process.env.DUNNING_POLICY_JSON = data.bundledPolicyJson;

function lambdaError(error: unknown): LambdaError {
  const e = error instanceof Error ? error : new Error(String(error));
  return { errorType: e.name || 'Error', errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
}

type Handler = (event: unknown, context: Context) => Promise<unknown>;
let handler: Handler;
try {
  const module = (await import(pathToFileURL(data.entry).href)) as Record<string, unknown>;
  const exported = module[data.handlerExport];
  if (typeof exported !== 'function') throw Object.assign(new Error(`${data.entry} does not export ${data.handlerExport}`), { name: 'Runtime.HandlerNotFound' });
  handler = exported as Handler;
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'init-error', error: lambdaError(error) });
}

port.on('message', (message: ToContainer) => {
  if (message.type !== 'invoke') return;
  const context: Context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: data.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: data.functionArn,
    memoryLimitInMB: String(data.memorySize),
    awsRequestId: message.requestId,
    logGroupName: data.logGroupName,
    logStreamName: data.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  void (async () => {
    // The billed duration: the handler's own run, not the wait for a container or the crossing.
    const started = performance.now();
    try {
      const result = await handler(JSON.parse(message.event), context);
      post({ type: 'result', id: message.id, payload: JSON.stringify(result ?? null), durationMs: performance.now() - started });
    } catch (error) {
      post({ type: 'error', id: message.id, error: lambdaError(error), durationMs: performance.now() - started });
    }
  })();
});
