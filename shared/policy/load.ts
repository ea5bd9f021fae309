// Parses and validates a policy, turning zod issues into one message that names each field.
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
  return new PolicyError(`Invalid dunning policy:\n  ${issues.join('\n  ')}`, issues);
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
    throw new PolicyError(`Policy file ${file} is not valid JSON: ${(error as Error).message}`, []);
  }
  return json;
}

function formatPath(path: z.core.$ZodIssue['path']): string {
  if (path.length === 0) return '(root)';
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}
