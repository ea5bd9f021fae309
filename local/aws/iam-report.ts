// `npm run iam-report`, and the last lines of `npm test`: least privilege both ways. For each function
// (and the state machine), every action its synthesized role grants, beside whether any local run
// recorded in DUNNING_IAM_USAGE_DIR exercised it. A grant nobody exercised is either removed from its
// construct or kept with its reason in the README's security notes.
import { fileURLToPath } from 'node:url';
import { DEFAULT_POLICY_FILE, loadPolicySetFile } from '#shared/policy/load.ts';
import { describeDeployment } from './deployment.ts';
import { grantedActions, leastPrivilege, readUsage, type LeastPrivilegeRow } from './iam-usage.ts';

/** Where `npm test` leaves the counts of every runtime it started (gitignored with node_modules). */
export const DEFAULT_USAGE_DIR = fileURLToPath(new URL('../../node_modules/.cache/dunning-iam-usage/', import.meta.url));

/** The grants of every principal of the stack as deployed, EventBridge ingest included. */
export async function stackGrants(): Promise<Map<string, string[]>> {
  const deployment = await describeDeployment({
    policies: loadPolicySetFile(DEFAULT_POLICY_FILE),
    sender: 'billing@acme.test',
    tableName: 'dunning-local',
    stateMachineName: 'dunning-local',
    functionUrlBase: 'http://127.0.0.1:3000',
    eventBridgeBusName: 'aws.partner/stripe.com/ed_report',
  });
  const grants = new Map<string, string[]>();
  for (const spec of deployment.functions.values()) grants.set(spec.name, grantedActions(spec.role.policies));
  grants.set('state-machine', grantedActions(deployment.stateMachine.role.policies));
  return grants;
}

export async function leastPrivilegeReport(dir = DEFAULT_USAGE_DIR): Promise<LeastPrivilegeRow[]> {
  return leastPrivilege(await stackGrants(), readUsage(dir));
}

export function formatReport(rows: readonly LeastPrivilegeRow[]): string {
  const width = Math.max(...rows.map((row) => row.principal.length));
  const lines = ['Least privilege: granted IAM actions no local run exercised (see the README, "Security notes")'];
  for (const row of rows) {
    const unexercised = row.unexercised.length ? row.unexercised.join(', ') : '(none: every grant was used)';
    lines.push(`  ${row.principal.padEnd(width)}  ${row.granted.length - row.unexercised.length}/${row.granted.length} used; never: ${unexercised}`);
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.env.DUNNING_IAM_USAGE_DIR ?? DEFAULT_USAGE_DIR;
  const usage = readUsage(dir);
  if (Object.keys(usage.allowed).length === 0) {
    process.stderr.write(`no recorded usage in ${dir}: run npm test first (it records every AWS call the functions make)\n`);
    process.exit(2);
  }
  process.stdout.write(`${formatReport(leastPrivilege(await stackGrants(), usage))}\n`);
}
