// The README is the front door: every picture it shows must exist in the repository.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(`${ROOT}README.md`, 'utf8');
const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);

describe('README', () => {
  it('shows a screenshot of the banner and of each email', () => {
    for (const name of ['PreDunning', 'Notice1', 'Notice2', 'Notice3', 'ActionRequired', 'Recovered', 'Terminate']) {
      expect(images, name).toContain(`docs/screenshots/email-${name}.png`);
    }
    expect(images.filter((path) => path.includes('/banner-'))).toHaveLength(4);
  });

  it('links only images that are in the repository', () => {
    const missing = images.filter((path) => !/^https?:/.test(path) && !existsSync(`${ROOT}${path}`));
    expect(missing).toEqual([]);
  });
});
