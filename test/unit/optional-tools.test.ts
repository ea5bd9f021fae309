// What the tests that need a tool beyond Node do on this machine: run with it, skip without it on a
// developer's machine (with one line saying how to get it), fail without it under CI.
import { describe, expect, it } from 'vitest';
import { HOW_TO_GET_CHROMIUM } from '#local/chromium.ts';
import { browserTestPlan, cfnLintTestPlan, HOW_TO_GET_CFN_LINT, isCi } from '../fixtures/optional-tools.ts';

/** A file system that has exactly `paths`. */
const only = (...paths: string[]) => (path: string) => paths.includes(path);

describe('isCi', () => {
  it('is true when CI is set, unless to false or 0', () => {
    expect(['true', '1', 'TRUE', 'yes'].map((CI) => isCi({ CI }))).toEqual([true, true, true, true]);
    expect(['false', 'FALSE', '0', ''].map((CI) => isCi({ CI }))).toEqual([false, false, false, false]);
    expect(isCi({})).toBe(false);
  });
});

describe('browserTestPlan', () => {
  it('runs the browser tests with the Chromium found', () => {
    expect(browserTestPlan({ env: {}, exists: only('/usr/bin/google-chrome') })).toEqual({ mode: 'run', path: '/usr/bin/google-chrome' });
    expect(browserTestPlan({ env: { CI: 'true' }, exists: only('/usr/bin/chromium') })).toEqual({ mode: 'run', path: '/usr/bin/chromium' });
  });

  it('skips them without Chromium, with one line that says how to get it', () => {
    const plan = browserTestPlan({ env: {}, exists: only() });

    expect(plan).toEqual({ mode: 'skip', message: `browser tests skipped: no Chromium found; to run them, ${HOW_TO_GET_CHROMIUM}` });
    expect(HOW_TO_GET_CHROMIUM).toMatch(/apt-get install chromium.*CHROMIUM_PATH/);
  });

  it('skips them when CI is set to false', () => {
    expect(browserTestPlan({ env: { CI: 'false' }, exists: only() }).mode).toBe('skip');
  });

  it('fails them under CI=true without Chromium, naming the fix', () => {
    expect(browserTestPlan({ env: { CI: 'true' }, exists: only() })).toEqual({
      mode: 'fail',
      message: `the browser tests are required under CI=true: no Chromium found; ${HOW_TO_GET_CHROMIUM}`,
    });
  });

  it('fails them, never skips, when CHROMIUM_PATH names nothing', () => {
    expect(browserTestPlan({ env: { CHROMIUM_PATH: '/opt/typo/chrome' }, exists: only() })).toEqual({
      mode: 'fail',
      message: expect.stringMatching(/^CHROMIUM_PATH=\/opt\/typo\/chrome: no such file/),
    });
  });
});

describe('cfnLintTestPlan', () => {
  it('runs the cfn-lint tests with the first cfn-lint on PATH', () => {
    const plan = cfnLintTestPlan({ env: { PATH: '/usr/bin:/root/.pyenv/shims:/usr/local/bin' }, exists: only('/root/.pyenv/shims/cfn-lint', '/usr/local/bin/cfn-lint') });

    expect(plan).toEqual({ mode: 'run', path: '/root/.pyenv/shims/cfn-lint' });
  });

  it('skips them when cfn-lint is not on PATH, with one line that says how to get it', () => {
    expect(cfnLintTestPlan({ env: { PATH: '/usr/bin:/bin' }, exists: only('/opt/cfn-lint') })).toEqual({
      mode: 'skip',
      message: `cfn-lint tests skipped: cfn-lint is not on PATH; to run them, ${HOW_TO_GET_CFN_LINT}`,
    });
  });

  it('fails them under CI=true when cfn-lint is not on PATH', () => {
    expect(cfnLintTestPlan({ env: { CI: 'true', PATH: '/usr/bin' }, exists: only() })).toEqual({
      mode: 'fail',
      message: `the cfn-lint tests are required under CI=true: cfn-lint is not on PATH; ${HOW_TO_GET_CFN_LINT}`,
    });
  });
});
