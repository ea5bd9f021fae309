// AwsSolutions-L1 wants the newest Node.js runtime the app's aws-cdk-lib knows; an app on a newer
// aws-cdk-lib than ours knows one our functions never ran on, and acknowledgeNagFindings says so.
import { Runtime, RuntimeFamily } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { newerNodeRuntimes } from '#infra/stacks/dunning-stack.ts';

describe('the Node.js runtimes newer than the functions use', () => {
  const nodejs26 = new Runtime('nodejs26.x', RuntimeFamily.NODEJS);

  it('are the ones a newer aws-cdk-lib adds, by major version', () => {
    expect(newerNodeRuntimes([Runtime.NODEJS_20_X, Runtime.NODEJS_22_X, Runtime.NODEJS_24_X, nodejs26], Runtime.NODEJS_24_X)).toEqual(['nodejs26.x']);
  });

  it('are none when ours is the newest, whatever other families have', () => {
    expect(newerNodeRuntimes([Runtime.NODEJS_22_X, Runtime.NODEJS_24_X, Runtime.PYTHON_3_13, Runtime.NODEJS_LATEST], Runtime.NODEJS_24_X)).toEqual([]);
  });
});
