// Section 3, cold start: each function bundled by CDK itself (NodejsFunction's esbuild, the options
// of infra/constructs/dunning-function.ts), its size, and the time a fresh `node` takes to import
// it, against an empty handler bundled with the same options, sampled alternately in one run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { synthDunningStack } from '../infra/synth.ts';
import { emitResult, median, round1 } from './lib.ts';

const SAMPLES = Number(process.env.BENCH_INIT_SAMPLES ?? 15);
/** What DunningFunction passes as `bundling.banner`: ESM output with a working `require`. */
const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface BundleMeasurement {
  name: string;
  bytes: number;
  initMs: number;
  memoryMb: number;
  /** How many Secrets Manager secrets its environment points to (STRIPE_API_KEY_SECRET_ARN, …). */
  secrets: number;
}
export interface ColdStartResult {
  samples: number;
  empty: BundleMeasurement;
  functions: BundleMeasurement[];
  /** What fills the webhook bundle: minified bytes per package (esbuild's metafile), largest first. */
  webhookContents: Array<{ source: string; kb: number }>;
}

interface LambdaResource {
  Properties: { Code: { S3Key?: string }; MemorySize?: number; Environment?: { Variables?: Record<string, unknown> } };
}

async function main(): Promise<void> {
  console.log('cold start: synthesizing the stack with bundling on (CDK runs esbuild for each function)');
  const { template, assembly } = synthDunningStack({ bundle: true });
  const bundles = Object.values(template.findResources('AWS::Lambda::Function') as Record<string, LambdaResource>)
    .filter((fn) => typeof fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'string')
    .map((fn) => {
      const variables = fn.Properties.Environment!.Variables!;
      const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
      return {
        name: String(variables.POWERTOOLS_SERVICE_NAME),
        file: join(assembly.directory, `asset.${hash}`, 'index.mjs'),
        memoryMb: fn.Properties.MemorySize ?? 128,
        secrets: Object.keys(variables).filter((key) => key.endsWith('_SECRET_ARN')).length,
        env: Object.fromEntries(Object.entries(variables).filter(([key, value]) => typeof value === 'string' && key !== 'NODE_OPTIONS')) as Record<string, string>,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const empty = { name: '(empty handler)', file: await bundleEmpty(), memoryMb: 0, secrets: 0, env: {} };

  const all = [empty, ...bundles];
  const times = new Map<string, number[]>(all.map((b) => [b.name, []]));
  // Round-robin, so a burst of load on the machine lands on every bundle alike.
  for (let i = 0; i < SAMPLES; i++) for (const b of all) times.get(b.name)!.push(importMs(b.file, b.env));
  const measure = (b: (typeof all)[number]): BundleMeasurement => ({
    name: b.name,
    bytes: statSync(b.file).size,
    initMs: median(times.get(b.name)!),
    memoryMb: b.memoryMb,
    secrets: b.secrets,
  });
  const result: ColdStartResult = { samples: SAMPLES, empty: measure(empty), functions: bundles.map(measure), webhookContents: await contentsOf('handle-webhook') };
  console.table(Object.fromEntries([result.empty, ...result.functions].map((b) => [b.name, { KB: round1(b.bytes / 1024), 'init ms (median)': b.initMs, 'memory MB': b.memoryMb }])));
  emitResult(result);
}

/** An empty handler through the options DunningFunction gives NodejsFunction (see its `bundling`). */
async function bundleEmpty(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-empty-'));
  writeFileSync(join(dir, 'handler.ts'), 'export const handler = async () => ({ statusCode: 200 });\n');
  const outfile = join(dir, 'index.mjs');
  await build({ ...SAME_OPTIONS, entryPoints: [join(dir, 'handler.ts')], outfile });
  return outfile;
}

/** The function bundled again with the same options and a metafile, its output bytes grouped by package. */
async function contentsOf(name: string): Promise<Array<{ source: string; kb: number }>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-meta-'));
  const { metafile } = await build({
    ...SAME_OPTIONS,
    entryPoints: [fileURLToPath(new URL(`../../functions/${name}/handler.ts`, import.meta.url))],
    outfile: join(dir, 'index.mjs'),
    metafile: true,
  });
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? input.split('/').slice(0, 1).join('/') + '/ (this repo)';
      bytes.set(pkg, (bytes.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([source, b]) => ({ source, kb: round1(b / 1024) }));
}

/** DunningFunction's `bundling` as NodejsFunction hands it to esbuild (nodejs24.x → target node24). */
const SAME_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  minify: true,
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'error',
};

/** A fresh process imports the bundle, with Lambda's NODE_OPTIONS and the function's own environment. */
function importMs(file: string, env: Record<string, string>): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const out = execFileSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', ...env },
    encoding: 'utf8',
  });
  return Number(out);
}

await main();
process.exit(0);
