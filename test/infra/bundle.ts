// A function bundled as DunningFunction has NodejsFunction bundle it (its `bundling` options, handed
// to esbuild), with a metafile: what the bundle-size test and the cold-start bench read.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { ESM_REQUIRE_BANNER, type DunningFunctionName } from '#infra/constructs/dunning-function.ts';

/** DunningFunction's `bundling` as NodejsFunction hands it to esbuild (nodejs24.x → target node24). */
export const DUNNING_ESBUILD_OPTIONS: BuildOptions = {
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

export interface FunctionBundle {
  /** Bytes of index.mjs, without its source map. */
  bytes: number;
  /** The bundle's input files and the bytes each left in it. */
  inputs: Record<string, number>;
}

/** Bundles `functions/<name>/handler.ts` in memory, as CDK would (the policy define aside). */
export async function bundleFunction(name: DunningFunctionName): Promise<FunctionBundle> {
  const { metafile } = await build({
    ...DUNNING_ESBUILD_OPTIONS,
    entryPoints: [fileURLToPath(new URL(`../../functions/${name}/handler.ts`, import.meta.url))],
    outfile: join(mkdtempSync(join(tmpdir(), 'bundle-')), 'index.mjs'),
    write: false,
    metafile: true,
  });
  const output = Object.values((metafile as Metafile).outputs).find((o) => o.entryPoint)!;
  return {
    bytes: output.bytes,
    inputs: Object.fromEntries(Object.entries(output.inputs).map(([input, { bytesInOutput }]) => [input, bytesInOutput])),
  };
}

/** A bundle's bytes grouped by npm package, or by this repo's top folder, largest first. */
export function bytesByPackage(bundle: FunctionBundle): Array<{ source: string; bytes: number }> {
  const bytes = new Map<string, number>();
  for (const [input, n] of Object.entries(bundle.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? `${input.split('/')[0]}/ (this repo)`;
    bytes.set(pkg, (bytes.get(pkg) ?? 0) + n);
  }
  return [...bytes].map(([source, n]) => ({ source, bytes: n })).sort((a, b) => b.bytes - a.bytes);
}
