// Finding Chromium for `npm run preview` and the browser tests: CHROMIUM_PATH, then the usual places.
import { describe, expect, it } from 'vitest';
import { CHROMIUM_CANDIDATES, findChromium, NO_CHROMIUM } from '#local/chromium.ts';

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
