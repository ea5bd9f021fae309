// The rooms of shared/ depend one way: no two folders import each other, so a reader can take them
// from the bottom up. And shared/ is the product's logic: it never reaches into the Lambda wiring
// (functions/), the embedded runtime (local/), the CLI (cli/) or the CDK app (infra/).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHARED = join(ROOT, 'shared');
const OUTSIDE = ['functions', 'local', 'cli', 'infra'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** What a module imports, resolved to a path from the project root; packages are left out. */
function importsOf(file: string): string[] {
  // TypeScript's own scanner: static and dynamic imports and re-exports, never a comment's example.
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles.flatMap(({ fileName: spec }) => {
    if (spec.startsWith('.')) return [relative(ROOT, resolve(dirname(file), spec)).split(sep).join('/')];
    if (spec.startsWith('#')) return [spec.slice(1)];
    return [];
  });
}

/** A file's room: its folder under shared/ (`notices/locales`), or, for a file at the top, the file. */
function roomOf(path: string): string {
  const inShared = path.slice('shared/'.length);
  return inShared.includes('/') ? inShared.slice(0, inShared.lastIndexOf('/')) : inShared;
}

const arrows = new Map<string, string[]>();
const leaks: string[] = [];
for (const file of sourceFiles(SHARED)) {
  const from = relative(ROOT, file).split(sep).join('/');
  for (const target of importsOf(file)) {
    if (OUTSIDE.some((room) => target === room || target.startsWith(`${room}/`))) leaks.push(`${from} -> ${target}`);
    if (!target.startsWith('shared/')) continue;
    const [a, b] = [roomOf(from), roomOf(target)];
    if (a === b) continue;
    const key = `${a} -> ${b}`;
    arrows.set(key, [...(arrows.get(key) ?? []), `${from} -> ${target}`]);
  }
}

describe('the folders of shared/', () => {
  it('are read from the source: the scan sees the known arrows', () => {
    expect(arrows.has('dunning -> domain')).toBe(true);
    expect(arrows.has('notices -> notices/locales')).toBe(true);
  });

  it('never import each other: every arrow between two folders runs one way', () => {
    const both = [...arrows.keys()]
      .map((key) => key.split(' -> ') as [string, string])
      .filter(([a, b]) => a < b && arrows.has(`${b} -> ${a}`))
      .map(([a, b]) => `${a} <-> ${b}: ${[...arrows.get(`${a} -> ${b}`)!, ...arrows.get(`${b} -> ${a}`)!].join(', ')}`);
    expect(both).toEqual([]);
  });

  it('import nothing from functions/, local/, cli/ or infra/', () => {
    expect(leaks).toEqual([]);
  });
});
