// Chart.js for the pages that draw charts (the local console, `dunning report --html`): its
// standalone UMD build, read from node_modules, never from a CDN.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The package exports only its module builds; the UMD file (the one its `unpkg`/`jsdelivr` fields
 * name, which sets `window.Chart` and bundles its one dependency) sits beside the CommonJS entry.
 */
export function chartJsPath(): string {
  return join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
}

let source: string | undefined;

/** The library's source, read once. */
export function chartJsSource(): string {
  source ??= readFileSync(chartJsPath(), 'utf8');
  return source;
}
