// Parses and validates a policy, turning zod issues into a message of one line per problem, each
// naming the file and the field.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as z from '../zod.ts';
import { PolicyError } from './errors.ts';
import { PolicySchema, type Policy } from './schema.ts';
import { PolicySetSchema, type PolicySet } from './segments.ts';

export const DEFAULT_POLICY_FILE = fileURLToPath(new URL('./default.json', import.meta.url));

export function parsePolicy(input: unknown, source = 'policy'): Policy {
  if (input !== null && typeof input === 'object' && Object.hasOwn(input, 'policies')) {
    throw new PolicyError(`${source} holds several policies ("policies"): read it with parsePolicySet or loadPolicySetFile`, []);
  }
  const result = PolicySchema.safeParse(input);
  if (result.success) return result.data;
  throw invalid(result.error.issues, source);
}

/**
 * Parses a policy file in either form: one policy (it becomes the set's `default`), or
 * `{ "policies", "segments", "alsoNotify" }`.
 */
export function parsePolicySet(input: unknown, source = 'policy'): PolicySet {
  const result = PolicySetSchema.safeParse(input);
  if (result.success) return result.data;
  throw invalid(result.error.issues, source);
}

/** Reads a JSON policy file of one policy; `DUNNING_POLICY_FILE` selects one, otherwise the bundled default. */
export function loadPolicyFile(file: string = DEFAULT_POLICY_FILE): Policy {
  return parsePolicy(readJson(file), file);
}

/** Reads a JSON policy file in either form (see parsePolicySet). */
export function loadPolicySetFile(file: string = DEFAULT_POLICY_FILE): PolicySet {
  return parsePolicySet(readJson(file), file);
}

function invalid(zodIssues: z.core.$ZodIssue[], source: string): PolicyError {
  const issues = zodIssues.map((issue) => `${source}: ${formatPath(issue.path)}: ${issue.message}`);
  // One line per problem, each complete on its own: a single bad field is a single line.
  return new PolicyError(issues.map((issue) => `Invalid dunning policy: ${issue}`).join('\n'), issues);
}

function readJson(file: string): unknown {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PolicyError(`Cannot read policy file ${file}: ${(error as Error).message}`, []);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new PolicyError(`Policy file ${file} is not valid JSON: ${jsonProblem(raw, (error as Error).message)}`, []);
  }
  return json;
}

/**
 * JSON.parse's complaint with its place as an editor shows it, line and column (1-based). Node 20
 * says "at position 167", or for an unexpected token no place at all, so the place is found here:
 * the longest start of the text that could still become JSON ends where the mistake is.
 */
export function jsonProblem(raw: string, message: string): string {
  const what = message
    .replace(/, .* is not valid JSON$/s, '')
    .replace(/\s*\(line \d+ column \d+\)/, '')
    .replace(/\s+(in JSON )?at position \d+/, '');
  const offset = mistakeOffset(raw);
  const before = raw.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}: ${what}`;
}

function mistakeOffset(raw: string): number {
  const couldContinue = (length: number) => {
    try {
      JSON.parse(raw.slice(0, length));
      return true;
    } catch (error) {
      const message = (error as Error).message;
      return /Unexpected end|Unterminated/.test(message) || message.includes(`position ${length}`);
    }
  };
  // Every start of a start that could continue could continue too, so the boundary is found by halving.
  let low = 0;
  let high = raw.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (couldContinue(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

function formatPath(path: z.core.$ZodIssue['path']): string {
  if (path.length === 0) return '(root)';
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}
