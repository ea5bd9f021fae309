// Parses and validates a policy, turning zod issues into one message that names each field.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { PolicyError } from './errors.ts';
import { PolicySchema, type Policy } from './schema.ts';

export const DEFAULT_POLICY_FILE = fileURLToPath(new URL('./default.json', import.meta.url));

export function parsePolicy(input: unknown, source = 'policy'): Policy {
  const result = PolicySchema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => `${source}: ${formatPath(issue.path)}: ${issue.message}`);
  throw new PolicyError(`Invalid dunning policy:\n  ${issues.join('\n  ')}`, issues);
}

/** Reads a JSON policy file; `DUNNING_POLICY_FILE` selects one, otherwise the bundled default. */
export function loadPolicyFile(file: string = DEFAULT_POLICY_FILE): Policy {
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
  return parsePolicy(json, file);
}

function formatPath(path: z.core.$ZodIssue['path']): string {
  if (path.length === 0) return '(root)';
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}
