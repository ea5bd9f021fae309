// The local runtime's Lambda: each function in worker threads of its own, with exactly its own
// environment, its own module instances, JSON across the boundary, its timeout, and failures
// reported as Lambda reports them. Driven with a probe function that tells what its container sees.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { DunningFunctionName } from '#infra/constructs/dunning-function.ts';
import { LocalMetrics } from '#local/aws/cloudwatch.ts';
import type { FunctionSpec } from '#local/aws/deployment.ts';
import { FunctionError, LocalLambda, type FunctionLogLine } from '#local/aws/lambda.ts';

const PROBE = fileURLToPath(new URL('../fixtures/functions/probe/handler.ts', import.meta.url));

function probe(name: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    name: name as DunningFunctionName,
    logicalId: `${name}Fn`,
    functionName: name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    entry: PROBE,
    environment: { ONLY_MINE: name },
    timeoutSeconds: 5,
    memorySize: 256,
    role: { logicalId: `${name}Role`, arn: `arn:aws:iam::000000000000:role/${name}Role`, policies: [] },
    asyncInvoke: { retryAttempts: 2, onFailureQueue: `${name}-dlq` },
    logGroup: { name: `/local/${name}`, arn: `arn:aws:logs:us-east-1:000000000000:log-group:/local/${name}` },
    ...overrides,
  };
}

let lambda: LocalLambda | undefined;
afterEach(async () => {
  await lambda?.close(0);
  lambda = undefined;
});

function start(
  specs: FunctionSpec[],
  extra: { onLog?: (line: FunctionLogLine) => void; onDeadLetter?: (m: { spec: FunctionSpec }) => void; mayWriteLogs?: () => Promise<boolean> } = {},
) {
  const metrics = new LocalMetrics();
  lambda = new LocalLambda({
    functions: new Map(specs.map((spec) => [spec.name, spec])),
    runtimeEnvironment: (spec) => ({ AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: spec.functionName }),
    metrics,
    maxContainers: 2,
    asyncRetryDelaysMs: [5, 5],
    ...extra,
  });
  return { lambda, metrics };
}

type Report = { env: Record<string, string>; event: unknown; invocations: number; functionName: string; remainingMs: number };

describe('a local function', () => {
  it('sees exactly its own environment: its template variables and what Lambda sets, nothing of the host process', async () => {
    process.env.HOST_ONLY_SECRET = 'must not leak';
    const { lambda } = start([probe('alpha'), probe('beta')]);

    const alpha = await lambda.invoke<Report>('alpha' as DunningFunctionName, {});
    const beta = await lambda.invoke<Report>('beta' as DunningFunctionName, {});

    expect(alpha.env).toEqual({ ONLY_MINE: 'alpha', AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'alpha' });
    expect(beta.env.ONLY_MINE).toBe('beta');
    expect(alpha.functionName).toBe('alpha');
    expect(alpha.remainingMs).toBeGreaterThan(4000);
    delete process.env.HOST_ONLY_SECRET;
  });

  it('keeps module state per function and per container, never shared between functions', async () => {
    const { lambda } = start([probe('alpha'), probe('beta')]);

    await lambda.invoke('alpha' as DunningFunctionName, {});
    const second = await lambda.invoke<Report>('alpha' as DunningFunctionName, {});
    const other = await lambda.invoke<Report>('beta' as DunningFunctionName, {});

    expect(second.invocations).toBe(2);
    expect(other.invocations).toBe(1);
  });

  it('takes and gives JSON only: what JSON cannot carry does not cross', async () => {
    const { lambda } = start([probe('alpha')]);

    const report = await lambda.invoke<Report>('alpha' as DunningFunctionName, {
      value: { at: new Date(0), gone: undefined, set: new Set([1]), big: 1n < 2n },
    });

    expect(report.event).toEqual({ value: { at: '1970-01-01T00:00:00.000Z', set: {}, big: true } });
  });

  it('reports a thrown error as Lambda does, named by its errorType, and counts it under AWS/Lambda Errors', async () => {
    const { lambda, metrics } = start([probe('alpha')]);

    const failure = await lambda.invoke('alpha' as DunningFunctionName, { act: 'throw' }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(FunctionError);
    expect(failure).toMatchObject({ name: 'ProbeFailedError', message: 'the probe failed' });
    expect(metrics.data.filter((d) => d.namespace === 'AWS/Lambda').map((d) => d.name)).toEqual(['Invocations', 'Errors', 'Duration']);
  });

  it('stops an invocation at its timeout, and the next one gets a fresh container', async () => {
    const { lambda } = start([probe('alpha', { timeoutSeconds: 1 })]);
    await lambda.invoke('alpha' as DunningFunctionName, {});

    const timedOut = await lambda.invoke('alpha' as DunningFunctionName, { act: 'hang' }).catch((error: unknown) => error);
    const after = await lambda.invoke<Report>('alpha' as DunningFunctionName, {});

    expect(timedOut).toMatchObject({ name: 'Sandbox.Timedout', message: expect.stringMatching(/Task timed out after 1\.00 seconds/) });
    expect(after.invocations).toBe(1);
  });

  it('reports a container that exits as Runtime.ExitError, and starts another for the next invocation', async () => {
    const { lambda } = start([probe('alpha')]);

    const exited = await lambda.invoke('alpha' as DunningFunctionName, { act: 'exit' }).catch((error: unknown) => error);
    const after = await lambda.invoke<Report>('alpha' as DunningFunctionName, {});

    expect(exited).toMatchObject({ name: 'Runtime.ExitError' });
    expect(after.invocations).toBe(1);
  });

  it('hands its output over in order, taking EMF lines as metrics and the rest as log lines', async () => {
    const lines: FunctionLogLine[] = [];
    const { lambda, metrics } = start([probe('alpha')], { onLog: (line) => lines.push(line) });

    await lambda.invoke('alpha' as DunningFunctionName, { act: 'log' });

    expect(lines).toEqual([{ functionName: 'alpha', stream: 'stdout', line: '{"level":"INFO","message":"probe says hello"}' }]);
    expect(metrics.data.filter((d) => d.namespace === 'Dunning')).toEqual([
      expect.objectContaining({ name: 'ProbeCounted', dimensions: { service: 'dunning' }, value: 2, source: 'alpha' }),
    ]);
  });

  it('loses its output, metrics included, when its role may not write its log group', async () => {
    const lines: FunctionLogLine[] = [];
    const { lambda, metrics } = start([probe('alpha')], { onLog: (line) => lines.push(line), mayWriteLogs: async () => false });

    expect(await lambda.invoke('alpha' as DunningFunctionName, { act: 'log' })).toBe('logged');

    expect(lines).toEqual([]);
    expect(metrics.data.filter((d) => d.namespace === 'Dunning')).toEqual([]);
  });

  it('retries a failed asynchronous invocation as its EventInvokeConfig says, then sends it to its on-failure queue', async () => {
    const dead: Array<{ spec: FunctionSpec }> = [];
    const { lambda, metrics } = start([probe('alpha')], { onDeadLetter: (m) => dead.push(m) });

    lambda.invokeAsync('alpha' as DunningFunctionName, { act: 'throw' });
    await expect.poll(() => dead.length).toBe(1);

    expect(dead[0]?.spec.asyncInvoke.onFailureQueue).toBe('alpha-dlq');
    expect(metrics.data.filter((d) => d.name === 'Errors')).toHaveLength(3);
  });

  it('runs a busy function in more containers, each taking one invocation at a time', async () => {
    const { lambda } = start([probe('alpha', { timeoutSeconds: 1 })]);

    const reports = await Promise.all(
      Array.from({ length: 5 }, () => lambda.invoke<{ invocations: number; alongside: number }>('alpha' as DunningFunctionName, { act: 'slow' })),
    );

    // Two containers (the cap here), each counting its own invocations, and no invocation ever
    // running alongside another in the same container.
    expect(reports.filter((r) => r.invocations === 1)).toHaveLength(2);
    expect(reports.every((r) => r.alongside === 0)).toBe(true);
  });
});
