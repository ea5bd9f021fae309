// The construct package as a new user gets it: `npm pack` in package/, installed from the tarball
// into new apps in a temp folder (with the newest aws-cdk-lib 2.x and cdk-nag the registry has, as
// a new app would get), then an ES module app and a CommonJS app synthesize with cdk-nag's
// AwsSolutions checks, a TypeScript app type-checks against the shipped declarations, and the CLI
// runs from the installed package. Needs the npm registry (or npm's cache), as CI has.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackageJson {
  name: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  files: string[];
}
const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;

describe("the package's manifest", () => {
  it("asks for the repository's own versions of everything the code imports, with aws-cdk-lib and constructs as peers", async () => {
    const repo = await readJson<PackageJson>(join(ROOT, 'package.json'));
    const pkg = await readJson<PackageJson>(join(ROOT, 'package', 'package.json'));
    const { '@stripe-dunning/stripe-sandbox': sandbox, 'aws-cdk-lib': cdk, constructs, ...runtime } = repo.dependencies;
    expect(sandbox, 'the sandbox is local-only and unpublished').toBeDefined();
    expect(pkg.dependencies).toEqual({ ...runtime, esbuild: repo.devDependencies.esbuild });
    expect(pkg.peerDependencies).toEqual({ 'aws-cdk-lib': cdk, constructs });
  });
});

describe('the construct package, installed from its tarball into new apps', () => {
  let work: string;
  let app: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'dunning-package-'));
    // prepack compiles the code into package/dist; the tarball goes to the temp folder.
    const { stdout } = await run(NPM, ['pack', '--pack-destination', work, '--loglevel=error'], { cwd: join(ROOT, 'package'), maxBuffer: 16 * 1024 * 1024 });
    const tarball = join(work, stdout.trim().split('\n').pop()!);
    app = join(work, 'app');
    await run('mkdir', ['-p', app]);
    const repo = await readJson<PackageJson>(join(ROOT, 'package.json'));
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'billing-app',
        private: true,
        type: 'module',
        dependencies: {
          '@stripe-dunning/cdk': `file:${tarball}`,
          'aws-cdk-lib': '^2',
          constructs: '^10',
          'cdk-nag': repo.dependencies['cdk-nag'],
          '@types/node': repo.devDependencies['@types/node'],
        },
      }),
    );
    await run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
  }, 300_000);
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  const SYNTH = `
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
const stack = new Stack(app, 'Billing', { env: { account: '123456789012', region: 'us-east-1' } });
const dunning = new DunningWorkflow(stack, 'Dunning', { policy: loadPolicySetFile(), email: { sender: 'billing@example.com' } });
acknowledgeNagFindings(dunning);
app.synth();
`;

  async function synth(file: string, source: string, outdir: string) {
    await writeFile(join(app, file), source);
    // Validation failures (a cdk-nag error) make synth throw, and node exit non-zero.
    const result = await run(process.execPath, [file], { cwd: app, env: { ...process.env, OUT: outdir }, maxBuffer: 64 * 1024 * 1024 });
    const template = await readJson<{ Resources: Record<string, { Type: string; Properties?: { Runtime?: string } }> }>(join(app, outdir, 'Billing.template.json'));
    return { template, output: result.stdout + result.stderr };
  }

  function expectDunning(template: { Resources: Record<string, { Type: string; Properties?: { Runtime?: string } }> }): void {
    const types = Object.values(template.Resources).map((resource) => resource.Type);
    expect(types.filter((type) => type === 'AWS::StepFunctions::StateMachine')).toHaveLength(1);
    const functions = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties?.Runtime?.startsWith('nodejs'));
    expect(functions.length).toBeGreaterThanOrEqual(12);
    expect(types).toContain('AWS::DynamoDB::Table');
  }

  it('synthesizes in an ES module app, cdk-nag clean, with every function bundled from the installed package', async () => {
    const { template, output } = await synth(
      'app.mjs',
      `import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DunningWorkflow, acknowledgeNagFindings, loadPolicySetFile } from '@stripe-dunning/cdk';
const app = new App({ outdir: process.env.OUT });
${SYNTH}`,
      'cdk.out.esm',
    );
    expectDunning(template);
    expect(output).not.toMatch(/AwsSolutions-\w+/);
    const assets = (await readdir(join(app, 'cdk.out.esm'))).filter((name) => name.startsWith('asset.'));
    expect(assets.length).toBeGreaterThanOrEqual(12);
    const bundle = await readFile(join(app, 'cdk.out.esm', assets[0]!, 'index.mjs'), 'utf8');
    expect(bundle.length).toBeGreaterThan(10_000);
  }, 180_000);

  it('synthesizes in a CommonJS app the same', async () => {
    const { template, output } = await synth(
      'app.cjs',
      `const { App, Stack, Validations } = require('aws-cdk-lib');
const { AwsSolutionsChecks } = require('cdk-nag');
const { DunningWorkflow, acknowledgeNagFindings, loadPolicySetFile } = require('@stripe-dunning/cdk');
const app = new App({ outdir: process.env.OUT });
${SYNTH}`,
      'cdk.out.cjs',
    );
    expectDunning(template);
    expect(output).not.toMatch(/AwsSolutions-\w+/);
  }, 180_000);

  it('type-checks a TypeScript app against the declarations it ships, without skipLibCheck', async () => {
    await writeFile(
      join(app, 'app.ts'),
      `import { App, Stack } from 'aws-cdk-lib';
import { DunningWorkflow, PolicyError, acknowledgeNagFindings, loadPolicySetFile, parsePolicySet, type DunningWorkflowProps, type PolicySet } from '@stripe-dunning/cdk';
const stack = new Stack(new App(), 'Billing');
const policy: PolicySet = loadPolicySetFile();
const props: DunningWorkflowProps = { policy, email: { sender: 'billing@example.com' } };
const dunning: DunningWorkflow = new DunningWorkflow(stack, 'Dunning', props);
acknowledgeNagFindings(dunning);
const url: string | undefined = dunning.webhookUrl;
const problem: PolicyError | undefined = undefined;
void [url, problem, parsePolicySet];
// @ts-expect-error: the sender is required
new DunningWorkflow(stack, 'NoSender', { policy, email: {} });
`,
    );
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', lib: ['ES2022', 'ESNext.Disposable'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] },
        files: ['app.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await expect(run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app })).resolves.toBeDefined();
  }, 120_000);

  it('runs the CLI from the installed package', async () => {
    const { stdout } = await run(NPM, ['exec', '--', 'dunning', '--help'], { cwd: app });
    expect(stdout).toMatch(/^usage: dunning /);
    expect(stdout).toContain('cases');
  }, 60_000);
});
