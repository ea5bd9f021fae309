// `npm run preview`: previews another policy of a file of several (`--policy NAME`), in its own
// brand, and says which names exist when the one asked for does not; without Chromium it still
// writes every notice's HTML and text, and says in one line what the PNGs need.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOW_TO_GET_CHROMIUM, NO_CHROMIUM } from '#local/chromium.ts';
import { annualPolicyFile, writePolicyFile } from '../fixtures/policies.ts';
import { preview } from '../fixtures/preview.ts';

const file = writePolicyFile(annualPolicyFile((draft) => void (draft.policies.annual.brand = { ...draft.policies.annual.brand, productName: 'Acme Annual' })));

describe('npm run preview --policy', () => {
  it("renders the named policy's notices in its brand", async () => {
    const out = mkdtempSync(join(tmpdir(), 'dunning-preview-'));

    const run = await preview(['--no-screenshots', '--out', out, '--policy', 'annual'], { DUNNING_POLICY_FILE: file });

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('<h1>Acme Annual notices</h1>');
    expect(readFileSync(join(out, 'en-GB', 'PreDunning.txt'), 'utf8')).toContain('your Acme Annual subscription');
  }, 60_000);

  it('names the policies the file has when the one asked for is not there', async () => {
    const run = await preview(['--no-screenshots', '--out', mkdtempSync(join(tmpdir(), 'dunning-preview-')), '--policy', 'anual'], {
      DUNNING_POLICY_FILE: file,
    });

    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`--policy anual: ${file} has no such policy; it has "default", "annual"\n`);
  }, 60_000);
});

describe('npm run preview without Chromium', () => {
  it('writes the HTML and text of every notice, and says in one line that the PNGs need Chromium', async () => {
    const out = mkdtempSync(join(tmpdir(), 'dunning-preview-'));

    const run = await preview(['--out', out], { CHROMIUM_PATH: NO_CHROMIUM });

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout.split('\n').filter((line) => line.includes('Chromium'))).toEqual([
      `preview: HTML and text only; the PNGs need Chromium: ${HOW_TO_GET_CHROMIUM}`,
    ]);
    for (const locale of ['en-GB', 'fr-FR', 'de-DE']) {
      for (const id of ['Notice1', 'Notice2', 'Notice3', 'ActionRequired', 'Recovered', 'Terminate']) {
        expect(existsSync(join(out, locale, `${id}.html`)), `${locale}/${id}.html`).toBe(true);
        expect(existsSync(join(out, locale, `${id}.txt`)), `${locale}/${id}.txt`).toBe(true);
        expect(existsSync(join(out, locale, `${id}.png`)), `${locale}/${id}.png`).toBe(false);
      }
    }
    expect(readFileSync(join(out, 'index.html'), 'utf8')).not.toContain('.png');
  }, 60_000);

  it('stops with the name of a CHROMIUM_PATH that does not exist, rather than skip the PNGs quietly', async () => {
    const run = await preview(['--out', mkdtempSync(join(tmpdir(), 'dunning-preview-'))], { CHROMIUM_PATH: '/nowhere/chromium' });

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^CHROMIUM_PATH=\/nowhere\/chromium: no such file/);
  }, 60_000);
});

describe('npm run preview, flags', () => {
  it('refuses an unknown flag, listing the valid ones, rather than write a preview the flag was meant to change', async () => {
    const out = mkdtempSync(join(tmpdir(), 'dunning-preview-'));

    const run = await preview(['--out', out, '--bogus'], { DEBUG: '' });

    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: 'unknown flag --bogus; valid flags: --out DIR, --policy NAME, --no-screenshots, --verbose\n',
    });
    expect(existsSync(join(out, 'index.html'))).toBe(false);
  }, 60_000);

  it('says which flag lacks its value', async () => {
    const run = await preview(['--no-screenshots', '--policy'], { DEBUG: '' });

    expect(run.code).toBe(2);
    expect(run.stderr).toBe('--policy needs a value: --policy NAME\n');
  }, 60_000);
});
