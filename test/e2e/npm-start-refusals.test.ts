// What a newcomer sees when `npm start` cannot start: one line on stderr that names the fix, no
// stack, and a non-zero exit; a misspelt flag is refused rather than ignored; and `npm start | head`
// ends quietly.
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultPolicy, writePolicyFile } from '../fixtures/policies.ts';
import { freePort } from '../fixtures/process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm start -- <args>` on free ports, run until it exits by itself (or is killed after 60 s). */
async function npmStart(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const ports = {
    DUNNING_PORT: String(await freePort()),
    DUNNING_DYNAMODB_PORT: String(await freePort()),
    DUNNING_SES_PORT: String(await freePort()),
    DUNNING_STRIPE_PORT: String(await freePort()),
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'local/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, DEBUG: '', ...ports, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let busy: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (busy ? busy.close(resolve) : resolve(undefined)));
  busy = undefined;
});

describe('npm start refuses, in one line', () => {
  it('a policy with one bad field: that field, and nothing else on stderr', async () => {
    const policy = structuredClone(defaultPolicy()) as Record<string, any>;
    policy.brand.myAccountUrl = 'acme.com/account';
    const file = writePolicyFile(policy);

    const run = await npmStart(['--no-demo'], { DUNNING_POLICY_FILE: file });

    expect(run.code).not.toBe(0);
    expect(run.stderr).toBe(`Invalid dunning policy: ${file}: brand.myAccountUrl: must be an http(s) URL\n`);
    expect(run.stdout).toBe('');
  }, 70_000);

  it('a misspelt flag, naming the one meant and listing the valid ones, instead of playing the demo', async () => {
    const run = await npmStart(['--no-dmeo']);

    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: 'unknown flag --no-dmeo (did you mean --no-demo?); valid flags: --no-demo, --verbose\n',
    });
  }, 70_000);

  it('a port in use, naming the variable that moves it', async () => {
    const port = await freePort();
    busy = createServer();
    await new Promise<void>((resolve) => busy!.listen(port, '127.0.0.1', resolve));

    const run = await npmStart(['--no-demo'], { DUNNING_PORT: String(port) });

    expect(run.code).not.toBe(0);
    expect(run.stderr).toBe(`127.0.0.1:${port} is in use: set DUNNING_PORT to a free port\n`);
  }, 70_000);

  it('shows the stack of the refusal under --verbose, for whoever is debugging the product itself', async () => {
    const run = await npmStart(['--no-demo', '--verbose'], { DUNNING_DAY_MS: 'soon' });

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^Invalid local configuration: DUNNING_DAY_MS="soon": .*number.*\n/);
    expect(run.stderr).toMatch(/\n {4}at readLocalConfig /);
  }, 70_000);
});

describe('npm start piped into a reader that stops reading', () => {
  it('ends quietly with 0 when the reader has gone (npm start | head), rather than crash on EPIPE', async () => {
    const ports = { DUNNING_PORT: await freePort(), DUNNING_DYNAMODB_PORT: await freePort(), DUNNING_SES_PORT: await freePort(), DUNNING_STRIPE_PORT: await freePort() };
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--no-demo'], {
      cwd: ROOT,
      env: { ...process.env, DEBUG: '', ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed before the first line, so the start banner meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  }, 70_000);
});
