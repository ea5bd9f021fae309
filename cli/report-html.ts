// `dunning report --html FILE`: the console's recovery overview written as one self-contained HTML
// file (shared/charts/overview-page.ts), for an operator to open from disk or send on.
import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { overviewFile, type OverviewFileHeading } from '#shared/charts/overview-page.ts';
import type { RecoveryOverview } from '#shared/dunning/overview.ts';
import { CliError } from './errors.ts';

/**
 * The file `--html` names, as an absolute path, once it is known it can be written: checked before
 * the target is looked for, so a typo in the folder is heard about before the cases are read.
 */
export function htmlFileOption(value: string): string {
  if (!value.trim()) throw new CliError('--html needs a file name, e.g. --html report.html', 2);
  const path = resolve(value);
  const folder = dirname(path);
  if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`--html ${value}: no such folder ${folder}`, 2);
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`--html ${value}: ${path} is a folder; name a file in it, e.g. ${resolve(path, 'report.html')}`, 2);
  return path;
}

/** Writes the file and says, in one line, where and what. */
export function writeOverviewFile(path: string, overview: RecoveryOverview, heading: OverviewFileHeading): string {
  try {
    writeFileSync(path, overviewFile(overview, heading));
  } catch (error) {
    throw new CliError(`--html ${path}: cannot write it (${(error as Error).message})`);
  }
  const days = overview.daily.length;
  return `wrote ${path}: the recovery overview of ${heading.target} (${overview.report.opened} ${heading.scope}: the funnel, the recovery rate and recovered revenue over ${days} day${days === 1 ? '' : 's'} with endings, ${overview.openCases.total} open by stage), one file with Chart.js and the data inside; open it in a browser, offline`;
}
