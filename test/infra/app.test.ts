// `npx cdk synth` / `npx cdk deploy` run infra/app.ts; here it runs the same way, as a process, and
// refuses a deploy nobody would receive mail from in one line on stderr, with a non-zero exit.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writePolicyFile } from '../fixtures/policies.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE_POLICY = fileURLToPath(new URL('../../examples/policy.json', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CDK app as `cdk synth` starts it, with `context` as `-c key=value` would pass it. */
function cdkApp(env: NodeJS.ProcessEnv, context: Record<string, string> = {}): Promise<Run> {
  const { DUNNING_SENDER: _sender, DUNNING_POLICY_FILE: _policy, ...rest } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'infra/app.ts'],
      { cwd: ROOT, env: { ...rest, DEBUG: '', CDK_CONTEXT_JSON: JSON.stringify(context), ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const SENDER_FIX = 'pass -c sender=billing@yourdomain.com or set DUNNING_SENDER (an address SES has verified)';

describe('cdk synth refuses, in one line', () => {
  it('a deploy without a sender, instead of sending every notice from dunning@example.com', async () => {
    const run = await cdkApp({ DUNNING_POLICY_FILE: EXAMPLE_POLICY });

    expect(run).toEqual({ code: 2, stdout: '', stderr: `No sender: every notice needs a From address; ${SENDER_FIX}\n` });
  }, 70_000);

  it('a sender at a reserved example domain, given as context or in the environment', async () => {
    const fromContext = await cdkApp({ DUNNING_POLICY_FILE: EXAMPLE_POLICY }, { sender: 'billing@example.com' });
    const fromEnv = await cdkApp({ DUNNING_POLICY_FILE: EXAMPLE_POLICY, DUNNING_SENDER: 'Acme <billing@acme.test>' });

    expect(fromContext).toEqual({ code: 2, stdout: '', stderr: `Sender billing@example.com is at a reserved example domain, so no notice would be delivered; ${SENDER_FIX}\n` });
    expect(fromEnv).toMatchObject({ code: 2, stderr: `Sender billing@acme.test is at a reserved example domain, so no notice would be delivered; ${SENDER_FIX}\n` });
  }, 70_000);

  it("the bundled default policy, whose My Account link is the local runtime's", async () => {
    const run = await cdkApp({ DUNNING_SENDER: 'billing@acme-payments.dev' });

    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'the bundled default policy (no DUNNING_POLICY_FILE): brand.myAccountUrl http://127.0.0.1:3000/account points at this machine, so every email would carry a dead link; set DUNNING_POLICY_FILE to your policy (examples/policy.json is one to start from)\n',
    );
  }, 70_000);

  it('a bad policy: one line per problem, and no stack', async () => {
    const file = writePolicyFile({ brand: { productName: 'Acme' } });

    const run = await cdkApp({ DUNNING_SENDER: 'billing@acme-payments.dev', DUNNING_POLICY_FILE: file });

    expect(run.code).not.toBe(0);
    expect(run.stderr.split('\n').every((line) => line === '' || line.startsWith(`Invalid dunning policy: ${file}: `))).toBe(true);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 70_000);
});
