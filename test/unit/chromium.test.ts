// Finding Chromium for `npm run preview` and the browser tests, and what the browser tests do with
// what was found: run, skip on a developer's machine without one, fail under CI.
import { describe, expect, it } from 'vitest';
import { CHROMIUM_CANDIDATES, findChromium, HOW_TO_GET_CHROMIUM, NO_CHROMIUM } from '#local/chromium.ts';
import { browserTestPlan } from '../fixtures/browser-plan.ts';

/** A file system that has exactly `paths`. */
const only = (...paths: string[]) => (path: string) => paths.includes(path);

describe('findChromium', () => {
  it('takes CHROMIUM_PATH before any usual place', () => {
    const found = findChromium({ env: { CHROMIUM_PATH: '/opt/chrome/chrome' }, exists: only('/opt/chrome/chrome', '/usr/bin/chromium') });

    expect(found).toBe('/opt/chrome/chrome');
  });

  it("takes Debian's /usr/bin/chromium first of the usual places", () => {
    expect(CHROMIUM_CANDIDATES[0]).toBe('/usr/bin/chromium');
    expect(findChromium({ env: {}, exists: only(...CHROMIUM_CANDIDATES) })).toBe('/usr/bin/chromium');
  });

  it('tries the usual places in order', () => {
    expect(CHROMIUM_CANDIDATES).toEqual([
      '/usr/bin/chromium',
      '/usr/bin/chromium-browser',
      '/usr/bin/google-chrome',
      '/usr/bin/google-chrome-stable',
      '/snap/bin/chromium',
      '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
      '/Applications/Chromium.app/Contents/MacOS/Chromium',
    ]);
    for (const [i, path] of CHROMIUM_CANDIDATES.entries()) {
      expect(findChromium({ env: {}, exists: only(...CHROMIUM_CANDIDATES.slice(i)) })).toBe(path);
    }
  });

  it('finds nothing when no usual place has one', () => {
    expect(findChromium({ env: {}, exists: only() })).toBeUndefined();
  });

  it(`finds nothing with CHROMIUM_PATH=${NO_CHROMIUM}, even where one is installed`, () => {
    expect(findChromium({ env: { CHROMIUM_PATH: NO_CHROMIUM }, exists: only(...CHROMIUM_CANDIDATES) })).toBeUndefined();
  });

  it('names a CHROMIUM_PATH that does not exist instead of looking elsewhere', () => {
    expect(() => findChromium({ env: { CHROMIUM_PATH: '/opt/typo/chrome' }, exists: only('/usr/bin/chromium') })).toThrow(
      'CHROMIUM_PATH=/opt/typo/chrome: no such file; point it at a Chrome or Chromium binary, or unset it to look in the usual places',
    );
  });
});

describe('browserTestPlan', () => {
  it('runs the browser tests with the Chromium found', () => {
    expect(browserTestPlan({ env: {}, exists: only('/usr/bin/google-chrome') })).toEqual({ mode: 'run', chromium: '/usr/bin/google-chrome' });
    expect(browserTestPlan({ env: { CI: 'true' }, exists: only('/usr/bin/chromium') })).toEqual({ mode: 'run', chromium: '/usr/bin/chromium' });
  });

  it('skips them without Chromium, with one line that says how to get it', () => {
    const plan = browserTestPlan({ env: {}, exists: only() });

    expect(plan).toEqual({ mode: 'skip', message: `browser tests skipped: no Chromium found; to run them, ${HOW_TO_GET_CHROMIUM}` });
    expect(HOW_TO_GET_CHROMIUM).toMatch(/apt-get install chromium.*CHROMIUM_PATH/);
  });

  it('skips them when CI is set to false', () => {
    expect(browserTestPlan({ env: { CI: 'false' }, exists: only() }).mode).toBe('skip');
    expect(browserTestPlan({ env: { CI: '0' }, exists: only() }).mode).toBe('skip');
  });

  it('fails them under CI=true without Chromium, naming the fix', () => {
    const plan = browserTestPlan({ env: { CI: 'true' }, exists: only() });

    expect(plan).toEqual({
      mode: 'fail',
      message: `the browser tests are required under CI=true, and no Chromium was found: ${HOW_TO_GET_CHROMIUM}`,
    });
  });

  it('fails them, never skips, when CHROMIUM_PATH names nothing', () => {
    expect(browserTestPlan({ env: { CHROMIUM_PATH: '/opt/typo/chrome' }, exists: only() })).toEqual({
      mode: 'fail',
      message: expect.stringMatching(/^CHROMIUM_PATH=\/opt\/typo\/chrome: no such file/),
    });
  });
});
