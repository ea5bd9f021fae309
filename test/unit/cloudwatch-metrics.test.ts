// The CLI's metrics sink: sums what one command counts per metric and dimension value, stamps the
// same dimensions the functions' EMF carries, and sends at most 1,000 data points per call.
import type { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { CloudWatchMetricsSink } from '#shared/adapters/cloudwatch-metrics.ts';

function fakeClient() {
  const calls: PutMetricDataCommand['input'][] = [];
  return { calls, client: { send: async (command: PutMetricDataCommand) => void calls.push(command.input) } as never };
}

const AT = new Date('2026-03-01T12:00:00.000Z');

describe('CloudWatchMetricsSink', () => {
  it('sums repeated counts of one series and keeps other dimension values apart', async () => {
    const { calls, client } = fakeClient();
    const sink = new CloudWatchMetricsSink(client, 'Dunning', () => AT);

    sink.count('RetryAttempted');
    sink.count('RetryAttempted');
    sink.count('RecoveredAmount', { Currency: 'EUR' }, 1500);
    sink.count('RecoveredAmount', { Currency: 'EUR' }, 500);
    sink.count('RecoveredAmount', { Currency: 'GBP' }, 900);
    await sink.flush();

    expect(calls).toEqual([
      {
        Namespace: 'Dunning',
        MetricData: [
          { MetricName: 'RetryAttempted', Dimensions: [{ Name: 'service', Value: 'dunning' }], Value: 2, Unit: 'Count', Timestamp: AT },
          { MetricName: 'RecoveredAmount', Dimensions: [{ Name: 'service', Value: 'dunning' }, { Name: 'Currency', Value: 'EUR' }], Value: 2000, Unit: 'None', Timestamp: AT },
          { MetricName: 'RecoveredAmount', Dimensions: [{ Name: 'service', Value: 'dunning' }, { Name: 'Currency', Value: 'GBP' }], Value: 900, Unit: 'None', Timestamp: AT },
        ],
      },
    ]);
  });

  it('sends nothing when nothing was counted, and nothing twice', async () => {
    const { calls, client } = fakeClient();
    const sink = new CloudWatchMetricsSink(client);

    await sink.flush();
    sink.count('CaseClosedOutside');
    await sink.flush();
    await sink.flush();

    expect(calls).toHaveLength(1);
  });

  it('splits more than 1,000 series into calls of at most 1,000', async () => {
    const { calls, client } = fakeClient();
    const sink = new CloudWatchMetricsSink(client);

    for (let i = 0; i < 2001; i++) sink.count('NoticeSent', { Stage: `Stage${i}` });
    await sink.flush();

    expect(calls.map((c) => c.MetricData?.length)).toEqual([1000, 1000, 1]);
  });
});
