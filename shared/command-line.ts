// What the command-line entries (`npm start`, `npm run preview`, `npx cdk synth`) share: strict flags,
// and an ending on error that is one line naming the fix, with the stack only when asked for.
import { parseArgs } from 'node:util';
import { PolicyError } from './policy/errors.ts';

/** A setting, flag or environment the user got wrong: its message is the whole report, fix included. */
export class SettingsError extends Error {
  override name = 'SettingsError' as const;
}

/** Each flag's type, and for a string flag the word the valid-flags list shows for its value. */
export type FlagSpec = Record<string, { type: 'boolean' } | { type: 'string'; value: string }>;

/** The stack goes with the report only under `--verbose` or a non-empty DEBUG. */
export function wantsStack(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv.includes('--verbose') || Boolean(env.DEBUG);
}

type FlagValues<F extends FlagSpec> = { [K in keyof F]?: F[K]['type'] extends 'string' ? string : boolean };

/**
 * Parses `argv` against `flags` and refuses anything else: a misspelt `--no-dmeo` that were ignored
 * would do the very thing the flag was typed to stop.
 */
export function parseFlags<F extends FlagSpec>(argv: readonly string[], flags: F) {
  try {
    const options = Object.fromEntries(Object.entries(flags).map(([name, { type }]) => [name, { type }]));
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as FlagValues<F>;
  } catch (error) {
    throw new SettingsError(flagProblem(error as Error & { code?: string }, argv, flags));
  }
}

/** parseArgs' complaint as one line, with the valid flags (and the nearest one to a misspelling). */
export function flagProblem(error: Error & { code?: string }, argv: readonly string[], flags: FlagSpec): string {
  const valid = `valid flags: ${Object.entries(flags)
    .map(([name, spec]) => `--${name}${spec.type === 'string' ? ` ${spec.value}` : ''}`)
    .join(', ')}`;
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const given = /'([^']+)'/.exec(error.message)?.[1] ?? argv.find((a) => a.startsWith('-')) ?? '?';
    const name = given.replace(/^-+/, '').split('=')[0]!;
    const near = Object.keys(flags).find((flag) => editDistance(flag, name) <= 2);
    return `unknown flag ${given}${near ? ` (did you mean --${near}?)` : ''}; ${valid}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const given = /'([^']+)'/.exec(error.message)?.[1] ?? '?';
    return `unexpected argument "${given}"; ${valid}`;
  }
  // A string flag without its value, or a value given to a boolean one.
  const missing = /^Option '(?:-\w, )?--([\w-]+) <value>' argument missing/.exec(error.message)?.[1];
  const spec = missing ? flags[missing] : undefined;
  if (missing && spec?.type === 'string') return `--${missing} needs a value: --${missing} ${spec.value}`;
  const unwanted = /^Option '(?:-\w, )?--([\w-]+)' does not take an argument/.exec(error.message)?.[1];
  if (unwanted) return `--${unwanted} takes no value; give it alone`;
  return `${error.message.split('\n')[0]}; ${valid}`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The report of an error that ends the program. One the user caused (a policy, a setting) is its
 * own message; anything else is a fault of ours, named, with where to find the stack.
 */
export function errorReport(error: unknown, verbose: boolean): string {
  const e = error instanceof Error ? error : new Error(String(error));
  const userCaused = e instanceof PolicyError || e instanceof SettingsError;
  const line = userCaused ? e.message : `${e.name}: ${e.message}${verbose ? '' : ' (run again with --verbose or DEBUG=1 for the stack)'}`;
  return verbose && e.stack ? `${line}\n${e.stack}` : line;
}

/** Exit code of an error: 2 for a setting or flag, as the CLI does for bad usage; 1 otherwise. */
export function exitCodeOf(error: unknown): 1 | 2 {
  return error instanceof SettingsError ? 2 : 1;
}

/**
 * Ends the program quietly, and successfully, when the reader of `stream` goes away (`| head`):
 * the reader had what it wanted. Any other write error still surfaces.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
