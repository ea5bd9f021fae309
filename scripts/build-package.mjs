#!/usr/bin/env node
// Builds the construct package in package/ (its `prepack`, so `npm pack` there makes the tarball):
// the TypeScript of infra/, shared/, functions/ and cli/ compiled to JavaScript twice, as ES modules
// (dist/esm) and as CommonJS (dist/cjs), each file on its own (not bundled: NodejsFunction bundles
// the functions from dist/esm at the user's synth), with the type declarations of the public API
// beside both. Plain JavaScript, so packing needs no TypeScript runner.
//
// The sources import with `.ts` extensions (relative, and through the `#shared/*`-style imports
// map); esbuild keeps specifiers as written, so they are rewritten to `.js` here, and the package's
// own imports map sends `#shared/*` into dist/esm or dist/cjs by condition.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PACKAGE = join(ROOT, 'package');
const DIST = join(PACKAGE, 'dist');
/** What the package's code is: the constructs, the domain and adapters, the functions, the CLI. */
const SOURCE_DIRS = ['infra', 'shared', 'functions', 'cli'];
/** Ours, not the package's: the repository's own CDK app reads the environment of `npm run deploy`. */
const LEFT_OUT = new Set(['infra/app.ts']);
/** Files the code reads at run time, beside the JavaScript. */
const ASSETS = ['shared/policy/default.json'];

function sourcesUnder(dir) {
  const out = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sourcesUnder(path));
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts') && !path.endsWith('.test.ts') && !LEFT_OUT.has(path)) out.push(path);
  }
  return out;
}

/** `'./x.ts'`, `'#shared/y.ts'` as import or export specifiers, static or dynamic, or require(). */
const TS_SPECIFIER = /((?:\bfrom|\bimport|\brequire\()\s*\(?\s*)(['"])([^'"\n]+)\.ts\2/g;

function rewriteSpecifiers(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      rewriteSpecifiers(path);
      continue;
    }
    if (!/\.(js|d\.ts)$/.test(name)) continue;
    const text = readFileSync(path, 'utf8');
    const rewritten = text.replace(TS_SPECIFIER, (_, lead, quote, specifier) => `${lead}${quote}${specifier}.js${quote}`);
    if (rewritten !== text) writeFileSync(path, rewritten);
  }
}

export async function buildPackage({ quiet = false } = {}) {
  const log = quiet ? () => {} : (line) => console.log(line);
  rmSync(DIST, { recursive: true, force: true });
  const entryPoints = SOURCE_DIRS.flatMap(sourcesUnder).map((path) => join(ROOT, path));
  const common = { entryPoints, outbase: ROOT, bundle: false, platform: 'node', target: 'node20', logLevel: 'warning', sourcemap: false, keepNames: true };

  await build({ ...common, outdir: join(DIST, 'esm'), format: 'esm' });
  // CommonJS has no import.meta: the one use (a file's own URL, for the paths beside it) reads __filename.
  await build({
    ...common,
    outdir: join(DIST, 'cjs'),
    format: 'cjs',
    define: { 'import.meta.url': '__dunningModuleUrl' },
    banner: { js: "const __dunningModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  // Node reads `type` and `imports` from the nearest package.json: this one, for everything under dist/cjs.
  const imports = Object.fromEntries([...SOURCE_DIRS, 'local'].map((dir) => [`#${dir}/*`, `./${dir}/*`]));
  writeFileSync(join(DIST, 'cjs', 'package.json'), `${JSON.stringify({ type: 'commonjs', imports }, null, 2)}\n`);

  // The declarations of the public API (infra/index.ts and what it reaches), for both builds.
  const types = join(DIST, 'types');
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.package.json'), '--outDir', types], { cwd: ROOT, stdio: 'inherit' });
  for (const format of ['esm', 'cjs']) cpSync(types, join(DIST, format), { recursive: true });
  rmSync(types, { recursive: true, force: true });

  for (const asset of ASSETS) {
    for (const format of ['esm', 'cjs']) {
      mkdirSync(dirname(join(DIST, format, asset)), { recursive: true });
      cpSync(join(ROOT, asset), join(DIST, format, asset));
    }
  }
  rewriteSpecifiers(DIST);
  log(`built ${relative(ROOT, DIST)}: ${entryPoints.length} modules, as ES modules and CommonJS, with declarations`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!existsSync(join(ROOT, 'node_modules', 'esbuild'))) throw new Error('run npm ci in the repository first: the build uses its esbuild and TypeScript');
  await buildPackage();
}
