// Least privilege both ways: which granted actions a function actually used. Every allowed call is
// counted per principal; a test run writes its counts to DUNNING_IAM_USAGE_DIR, and the report puts
// them beside the grants of the synthesized template, so a grant no test ever exercised stands out.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyDocument } from './deployment.ts';

export const IAM_USAGE_DIR_VARIABLE = 'DUNNING_IAM_USAGE_DIR';

export interface IamUsageRecord {
  /** Per principal (a function name, or `state-machine`), each action allowed, with its count. */
  allowed: Record<string, Record<string, number>>;
  /** Per principal, each call refused, in AWS's words. */
  denied: Record<string, string[]>;
}

export class IamUsage {
  private readonly record: IamUsageRecord = { allowed: {}, denied: {} };

  allowed(principal: string, action: string): void {
    const actions = (this.record.allowed[principal] ??= {});
    actions[action] = (actions[action] ?? 0) + 1;
  }

  denied(principal: string, action: string, message: string): void {
    (this.record.denied[principal] ??= []).push(`${action}: ${message}`);
  }

  get snapshot(): IamUsageRecord {
    return structuredClone(this.record);
  }

  /** Writes this runtime's counts into `dir` (one file per runtime), for the report. */
  persist(dir: string | undefined): void {
    if (!dir || Object.keys(this.record.allowed).length + Object.keys(this.record.denied).length === 0) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.json`), JSON.stringify(this.record));
  }
}

/** Every runtime's counts in `dir`, merged. */
export function readUsage(dir: string): IamUsageRecord {
  const merged: IamUsageRecord = { allowed: {}, denied: {} };
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return merged;
  }
  for (const file of files) {
    const record = JSON.parse(readFileSync(join(dir, file), 'utf8')) as IamUsageRecord;
    for (const [principal, actions] of Object.entries(record.allowed)) {
      const into = (merged.allowed[principal] ??= {});
      for (const [action, count] of Object.entries(actions)) into[action] = (into[action] ?? 0) + count;
    }
    for (const [principal, messages] of Object.entries(record.denied)) (merged.denied[principal] ??= []).push(...messages);
  }
  return merged;
}

export function clearUsage(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The actions a role's policies allow, as written (patterns such as `ses:*` stay patterns). */
export function grantedActions(policies: ReadonlyArray<{ document: PolicyDocument }>): string[] {
  const actions = new Set<string>();
  for (const { document } of policies) {
    for (const statement of document.Statement) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of [statement.Action ?? []].flat()) actions.add(action);
    }
  }
  return [...actions].sort();
}

/** Whether `used` (an action AWS authorized) falls under the granted `pattern`. */
export function covers(pattern: string, used: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return regex.test(used);
}

export interface LeastPrivilegeRow {
  principal: string;
  granted: string[];
  /** Granted, and never exercised by any run recorded. */
  unexercised: string[];
}

/** Per principal: what is granted, and which of it no recorded run exercised. */
export function leastPrivilege(grants: ReadonlyMap<string, string[]>, usage: IamUsageRecord): LeastPrivilegeRow[] {
  return [...grants].map(([principal, granted]) => {
    const used = Object.keys(usage.allowed[principal] ?? {});
    return { principal, granted, unexercised: granted.filter((pattern) => !used.some((action) => covers(pattern, action))) };
  });
}
