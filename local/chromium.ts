// Where Chromium is on this machine, for `npm run preview` and the browser tests. Both drive it
// through playwright-core, which never downloads a browser, so they use one already installed.
import { existsSync } from 'node:fs';
import { SettingsError } from '#shared/command-line.ts';
import type { Browser } from 'playwright-core';

/** Where Chromium or Chrome usually is, tried in order after `CHROMIUM_PATH`. */
export const CHROMIUM_CANDIDATES: readonly string[] = [
  '/usr/bin/chromium', // Debian's `chromium`, which CI installs
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** `CHROMIUM_PATH=none` behaves as if no Chromium were installed (a test of that path uses it). */
export const NO_CHROMIUM = 'none';

/** What to do when there is none, in words a developer can act on. */
export const HOW_TO_GET_CHROMIUM = "install Debian's chromium (`apt-get install chromium`) or set CHROMIUM_PATH to a Chrome or Chromium binary";

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumLookup {
  env?: NodeJS.ProcessEnv;
  exists?: (path: string) => boolean;
}

/**
 * The Chromium to use: `CHROMIUM_PATH` if set, else the first of `CHROMIUM_CANDIDATES` that exists,
 * else undefined. A `CHROMIUM_PATH` that names nothing is a mistake, not a reason to look elsewhere:
 * it throws, naming it.
 */
export function findChromium({ env = process.env, exists = existsSync }: ChromiumLookup = {}): string | undefined {
  const chosen = env.CHROMIUM_PATH;
  if (chosen === NO_CHROMIUM) return undefined;
  if (chosen) {
    if (!exists(chosen)) {
      throw new SettingsError(`CHROMIUM_PATH=${chosen}: no such file; point it at a Chrome or Chromium binary, or unset it to look in the usual places`);
    }
    return chosen;
  }
  return CHROMIUM_CANDIDATES.find((path) => exists(path));
}

/** Headless Chromium at `executablePath`. playwright-core is a dev dependency, so it is loaded only here. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}
