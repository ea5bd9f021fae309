// Section 3, cold start: each function bundled by CDK itself (NodejsFunction's esbuild, the options
// of infra/constructs/dunning-function.ts), its size, and the time a fresh `node` takes to import
// it, against an empty handler bundled with the same options, sampled alternately in one run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { bundleFunction, bytesByPackage, DUNNING_ESBUILD_OPTIONS } from '../infra/bundle.ts';
import { synthDunningStack } from '../infra/synth.ts';
import { emitResult, median, round1 } from './lib.ts';

const SAMPLES = Number(process.env.BENCH_INIT_SAMPLES ?? 15);

export interface BundleMeasurement {
  name: string;
  bytes: number;
  initMs: number;
  /**
   * CPU the importing process spent (user + system, all threads), median: unlike the wall time it
   * barely moves when other work shares the machine's cores.
   */
  initCpuMs?: number;
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
  const cpu = new Map<string, number[]>(all.map((b) => [b.name, []]));
  // Round-robin, so a burst of load on the machine lands on every bundle alike.
  for (let i = 0; i < SAMPLES; i++) {
    for (const b of all) {
      const sample = importMs(b.file, b.env);
      times.get(b.name)!.push(sample.wallMs);
      cpu.get(b.name)!.push(sample.cpuMs);
    }
  }
  const measure = (b: (typeof all)[number]): BundleMeasurement => ({
    name: b.name,
    bytes: statSync(b.file).size,
    initMs: median(times.get(b.name)!),
    initCpuMs: median(cpu.get(b.name)!),
    memoryMb: b.memoryMb,
    secrets: b.secrets,
  });
  const result: ColdStartResult = { samples: SAMPLES, empty: measure(empty), functions: bundles.map(measure), webhookContents: await contentsOf('handle-webhook') };
  console.table(Object.fromEntries([result.empty, ...result.functions].map((b) => [b.name, { KB: round1(b.bytes / 1024), 'init ms (median)': b.initMs, 'init CPU ms': b.initCpuMs, 'memory MB': b.memoryMb }])));
  emitResult(result);
}

/** An empty handler through the options DunningFunction gives NodejsFunction (see its `bundling`). */
async function bundleEmpty(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-empty-'));
  writeFileSync(join(dir, 'handler.ts'), 'export const handler = async () => ({ statusCode: 200 });\n');
  const outfile = join(dir, 'index.mjs');
  await build({ ...DUNNING_ESBUILD_OPTIONS, entryPoints: [join(dir, 'handler.ts')], outfile });
  return outfile;
}

/** The function bundled again with the same options and a metafile, its output bytes grouped by package. */
async function contentsOf(name: 'handle-webhook'): Promise<Array<{ source: string; kb: number }>> {
  return bytesByPackage(await bundleFunction(name)).slice(0, 10).map(({ source, bytes }) => ({ source, kb: round1(bytes / 1024) }));
}

/** A fresh process imports the bundle, with Lambda's NODE_OPTIONS and the function's own environment. */
function importMs(file: string, env: Record<string, string>): { wallMs: number; cpuMs: number } {
  const script = `const t = performance.now(); const c = process.cpuUsage(); await import(${JSON.stringify(pathToFileURL(file).href)}); const u = process.cpuUsage(c); process.stdout.write(JSON.stringify({ wallMs: performance.now() - t, cpuMs: (u.user + u.system) / 1000 }));`;
  const out = execFileSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
    // The SDK warns on Node < 22 at import (this machine runs 20); Lambda's nodejs24.x never does.
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as { wallMs: number; cpuMs: number };
}

await main();
process.exit(0);
