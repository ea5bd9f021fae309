// `npm run preview -- --policy NAME`: previews another policy of a file of several, in its own
// brand, and says which names exist when the one asked for does not.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { annualPolicyFile, writePolicyFile } from '../fixtures/policies.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function preview(args: string[], policyFile: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'local/preview/main.ts', '--no-screenshots', ...args],
      { cwd: ROOT, env: { ...process.env, DUNNING_POLICY_FILE: policyFile } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const file = writePolicyFile(annualPolicyFile((draft) => void (draft.policies.annual.brand = { ...draft.policies.annual.brand, productName: 'Acme Annual' })));

describe('npm run preview --policy', () => {
  it("renders the named policy's notices in its brand", async () => {
    const out = mkdtempSync(join(tmpdir(), 'dunning-preview-'));

    const run = await preview(['--out', out, '--policy', 'annual'], file);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('<h1>Acme Annual notices</h1>');
    expect(readFileSync(join(out, 'en-GB', 'PreDunning.txt'), 'utf8')).toContain('your Acme Annual subscription');
  }, 60_000);

  it('names the policies the file has when the one asked for is not there', async () => {
    const run = await preview(['--out', mkdtempSync(join(tmpdir(), 'dunning-preview-')), '--policy', 'anual'], file);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`--policy anual: ${file} has no such policy; it has "default", "annual"\n`);
  }, 60_000);
});
