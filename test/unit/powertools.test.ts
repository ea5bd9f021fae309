// What Lambda writes to CloudWatch: the JSON log lines (keys, masked addresses) and the EMF blobs of
// the business metrics, read back from stdout as CloudWatch would read them.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as Powertools from '#functions/_runtime/powertools.ts';
import { CaseClosedError, CasePausedError } from '#shared/domain/errors.ts';
import { standDownAs } from '#shared/workflow/stand-down.ts';

let pt: typeof Powertools;
beforeAll(async () => {
  // As CDK sets them on a function; read when the module is first imported.
  Object.assign(process.env, { POWERTOOLS_SERVICE_NAME: 'send-notice', POWERTOOLS_METRICS_NAMESPACE: 'Dunning', POWERTOOLS_LOG_LEVEL: 'INFO' });
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  delete process.env.POWERTOOLS_DEV;
  pt = await import('#functions/_runtime/powertools.ts');
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Every JSON document written to stdout or stderr while `act` runs. */
async function stdoutOf(act: () => Promise<unknown> | unknown): Promise<Array<Record<string, any>>> {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((line) => line.trim() !== ''));
    return true;
  };
  // Powertools writes WARN and ERROR lines to stderr, the others and EMF to stdout.
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  await act();
  vi.restoreAllMocks();
  return lines.map((line) => JSON.parse(line) as Record<string, any>);
}

describe('the Powertools logger', () => {
  it('writes one JSON line with the case keys and every email address masked', async () => {
    const handler = pt.instrument('send-notice', async (event: { invoiceId: string }) => {
      pt.logger.appendKeys({ invoiceId: event.invoiceId, executionName: event.invoiceId, stage: 'Notice1' });
      pt.logger.info('notice sent to jane.doe@example.com', {
        customerId: 'cus_123',
        eventId: 'evt_456',
        reason: 'SES said: Address blacklisted: <jane.doe@example.com>',
        case: { customerEmail: 'jane.doe@example.com' },
      });
    });

    const [line, ...rest] = await stdoutOf(() => handler({ invoiceId: 'in_789' }));

    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      level: 'INFO',
      service: 'send-notice',
      function: 'send-notice',
      invoiceId: 'in_789',
      customerId: 'cus_123',
      eventId: 'evt_456',
      executionName: 'in_789',
      stage: 'Notice1',
      message: 'notice sent to j***@example.com',
      reason: 'SES said: Address blacklisted: <j***@example.com>',
      case: { customerEmail: 'j***@example.com' },
    });
    expect(JSON.stringify(line)).not.toContain('jane.doe@');
  });

  it('masks an address inside a logged error', async () => {
    const handler = pt.instrument('close-case', async () => {
      throw new Error('MessageRejected: Email address is not verified: bob@acme.test');
    });

    const lines = await stdoutOf(() => handler({}).catch(() => undefined));

    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'ERROR', error: { message: expect.stringContaining('b***@acme.test') } });
    expect(JSON.stringify(lines)).not.toContain('bob@');
    // A stack trace's scoped package paths are not addresses.
    expect(lines[0]?.error.stack).toContain('node_modules/@vitest/runner/');
  });

  it('logs a stage that stood down at INFO, returned or (for an execution of an earlier definition) thrown, never as a failure', async () => {
    const paused = () => {
      throw new CasePausedError('in_123', '2026-03-20T00:00:00.000Z');
    };
    const returns = pt.instrument('retry-payment', async () => standDownAs('return', pt.logger, async () => paused()));
    const throws = pt.instrument('retry-payment', async () => standDownAs(undefined, pt.logger, async () => paused()));
    const closed = pt.instrument('send-notice', async () => {
      throw new CaseClosedError('in_123', 'recovered');
    });

    let result: unknown;
    const lines = await stdoutOf(async () => {
      result = await returns({});
      await expect(throws({})).rejects.toBeInstanceOf(CasePausedError);
      await expect(closed({})).rejects.toBeInstanceOf(CaseClosedError);
    });

    expect(result).toEqual({ outcome: 'paused', pausedUntil: '2026-03-20T00:00:00.000Z' });
    expect(lines.map((line) => [line.level, line.message])).toEqual([
      ['INFO', 'stage stood down: the case is paused'],
      ['INFO', 'stage stood down'],
      ['INFO', 'stage stood down'],
    ]);
  });

  it('does not carry one invocation\'s keys into the next', async () => {
    const first = pt.instrument('retry-payment', async () => pt.logger.appendKeys({ invoiceId: 'in_first' }));
    const second = pt.instrument('retry-payment', async () => pt.logger.info('second'));

    await stdoutOf(() => first({}));
    const [line] = await stdoutOf(() => second({}));

    expect(line).not.toHaveProperty('invoiceId');
  });
});

describe('the Powertools metrics sink', () => {
  it('publishes to namespace Dunning with service=dunning, a dimensioned metric in its own blob', async () => {
    const handler = pt.instrument('close-case', async () => {
      pt.powertoolsMetrics.count('CaseTerminated');
      pt.powertoolsMetrics.count('CaseRecovered', { RecoveredBy: 'workflow_retry' });
      pt.powertoolsMetrics.count('RecoveredAmount', { Currency: 'EUR' }, 4200);
      pt.powertoolsMetrics.count('NeedsAttention');
    });

    const blobs = (await stdoutOf(() => handler({}))).filter((doc) => doc._aws);
    const byMetric = (name: string) => blobs.find((blob) => name in blob);

    expect(blobs).toHaveLength(3);
    expect(byMetric('CaseRecovered')).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'Dunning', Dimensions: [['service', 'RecoveredBy']], Metrics: [{ Name: 'CaseRecovered', Unit: 'Count' }] }] },
      service: 'dunning',
      RecoveredBy: 'workflow_retry',
      CaseRecovered: 1,
    });
    expect(byMetric('RecoveredAmount')).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'Dunning', Dimensions: [['service', 'Currency']], Metrics: [{ Name: 'RecoveredAmount', Unit: 'None' }] }] },
      Currency: 'EUR',
      RecoveredAmount: 4200,
    });
    // The dimensionless metrics of the invocation are flushed together, split by no dimension.
    const rest = byMetric('CaseTerminated')!;
    expect(rest).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'Dunning', Dimensions: [['service']] }] },
      service: 'dunning',
      CaseTerminated: 1,
      NeedsAttention: 1,
    });
    expect(rest).not.toHaveProperty('RecoveredBy');
    expect(rest).not.toHaveProperty('Currency');
  });
});
