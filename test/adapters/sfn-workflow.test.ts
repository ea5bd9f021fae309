import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSfnClient } from '#shared/adapters/aws-clients.ts';
import { executionArnFor, StepFunctionsWorkflow } from '#shared/adapters/sfn-workflow.ts';
import './helpers.ts';

// The local runtime drives its state machine in-process, so there is no local Step Functions
// service to run against. This loopback stand-in speaks the Step Functions JSON protocol for the
// three actions the adapter uses, so the real SDK serializes requests and parses error types.

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:dunning';

interface Execution {
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'ABORTED';
  cause?: string;
}

const executions = new Map<string, Execution>();
const calls: Array<{ action: string; body: Record<string, string> }> = [];

function fail(res: ServerResponse, type: string, message: string) {
  res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify({ __type: `com.amazonaws.swf.service.v2.model#${type}`, message }));
}

function ok(res: ServerResponse, body: unknown) {
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify(body));
}

function handle(req: IncomingMessage, res: ServerResponse) {
  let raw = '';
  req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  req.on('end', () => {
    const action = String(req.headers['x-amz-target'] ?? '').replace('AWSStepFunctions.', '');
    const body = JSON.parse(raw || '{}') as Record<string, string>;
    calls.push({ action, body });
    if (action === 'StartExecution') {
      if (body.name === 'throttled') return fail(res, 'ThrottlingException', 'Rate exceeded');
      const arn = executionArnFor(body.stateMachineArn!, body.name!);
      const existing = executions.get(arn);
      // Step Functions returns the running execution for a repeated name with the same input.
      if (existing && (existing.status !== 'RUNNING' || existing.input !== body.input)) {
        return fail(res, 'ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
      }
      executions.set(arn, existing ?? { input: body.input!, status: 'RUNNING' });
      return ok(res, { executionArn: arn, startDate: Date.now() / 1000 });
    }
    if (action === 'StopExecution') {
      const execution = executions.get(body.executionArn!);
      if (!execution) return fail(res, 'ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
      if (execution.status !== 'RUNNING') return fail(res, 'ValidationException', 'Execution is not running');
      execution.status = 'ABORTED';
      execution.cause = body.cause;
      return ok(res, { stopDate: Date.now() / 1000 });
    }
    if (action === 'DescribeExecution') {
      const execution = executions.get(body.executionArn!);
      if (!execution) return fail(res, 'ExecutionDoesNotExist', 'Execution Does Not Exist');
      return ok(res, {
        executionArn: body.executionArn,
        stateMachineArn: STATE_MACHINE_ARN,
        status: execution.status,
        startDate: Date.now() / 1000,
      });
    }
    return fail(res, 'UnknownOperationException', action);
  });
}

let server: Server;
let client: SFNClient;
let workflow: StepFunctionsWorkflow;

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = createSfnClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  workflow = new StepFunctionsWorkflow(client, STATE_MACHINE_ARN);
});

beforeEach(() => {
  executions.clear();
  calls.length = 0;
});

afterAll(async () => {
  client?.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('executionArnFor', () => {
  it('derives the execution ARN from the state machine ARN and the name', () => {
    expect(executionArnFor(STATE_MACHINE_ARN, 'dunning-in_1')).toBe(
      'arn:aws:states:eu-west-1:123456789012:execution:dunning:dunning-in_1',
    );
  });

  it('refuses an ARN that is not a state machine’s', () => {
    expect(() => executionArnFor('arn:aws:lambda:eu-west-1:1:function:x', 'n')).toThrow(/not a state machine ARN/);
  });
});

describe('StepFunctionsWorkflow.start', () => {
  it('starts a named execution with the input as JSON', async () => {
    const { executionArn } = await workflow.start('dunning-in_1', { invoiceId: 'in_1' });

    expect(executionArn).toBe(executionArnFor(STATE_MACHINE_ARN, 'dunning-in_1'));
    expect(calls[0]).toEqual({
      action: 'StartExecution',
      body: { stateMachineArn: STATE_MACHINE_ARN, name: 'dunning-in_1', input: '{"invoiceId":"in_1"}' },
    });
  });

  it('returns the first execution when the name was already used', async () => {
    const first = await workflow.start('dunning-in_2', { invoiceId: 'in_2' });
    executions.get(first.executionArn)!.status = 'SUCCEEDED';

    const second = await workflow.start('dunning-in_2', { invoiceId: 'in_2' });

    expect(second).toEqual(first);
  });

  it('rethrows throttling so the webhook answers 500 and Stripe redelivers', async () => {
    await expect(workflow.start('throttled', { invoiceId: 'in_3' })).rejects.toMatchObject({ name: 'ThrottlingException' });
    // After the SDK's own attempts (maxAttempts 3), not instead of them.
    expect(calls.filter((c) => c.action === 'StartExecution')).toHaveLength(3);
  });
});

describe('StepFunctionsWorkflow.stop', () => {
  it('stops a running execution with the cause', async () => {
    const { executionArn } = await workflow.start('dunning-in_4', { invoiceId: 'in_4' });

    await workflow.stop(executionArn, 'invoice paid');

    expect(executions.get(executionArn)).toMatchObject({ status: 'ABORTED', cause: 'invoice paid' });
  });

  it('does nothing when the execution has already ended', async () => {
    const { executionArn } = await workflow.start('dunning-in_5', { invoiceId: 'in_5' });
    executions.get(executionArn)!.status = 'SUCCEEDED';

    await expect(workflow.stop(executionArn, 'invoice paid')).resolves.toBeUndefined();
  });

  it('does nothing when the execution does not exist', async () => {
    await expect(
      workflow.stop(executionArnFor(STATE_MACHINE_ARN, 'never-started'), 'invoice paid'),
    ).resolves.toBeUndefined();
  });

  it('caps the cause at the 32,768 characters Step Functions accepts', async () => {
    const { executionArn } = await workflow.start('dunning-in_6', { invoiceId: 'in_6' });

    await workflow.stop(executionArn, 'x'.repeat(40_000));

    expect(executions.get(executionArn)?.cause).toHaveLength(32_768);
  });
});
