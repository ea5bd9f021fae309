// `npx dunning …`: the operator CLI. Finds its target (a deployed stack through CloudFormation, or
// the local runtime with --local), builds the same adapters the functions use, and runs a command.
import { parseArgs } from 'node:util';
import { exitQuietlyOnClosedPipe, flagProblem, type FlagSpec } from '#shared/command-line.ts';
import type { CaseStatus } from '#shared/domain/case.ts';
import { close, dateOption, listCases, pause, redrive, replay, report, resume, retryCaseNow, showCase, STATUSES, unsuppress, type Print } from './commands.ts';
import { operatorDeps, stderrLog, type OperatorDeps } from './deps.ts';
import { CliError } from './errors.ts';
import { htmlFileOption } from './report-html.ts';
import { checkSimulateFlags, readPolicyFile, SIMULATE_FLAGS, simulateFailure, simulateInvoice, type SimulateFlags } from './simulate.ts';
import { DEFAULT_LOCAL_URL, DEFAULT_STACK, localTarget, policyFileOf, stackTarget, type Target } from './target.ts';
import { connectTarget } from './connect-target.ts';
import { doctorTarget, STRIPE_MODES } from './doctor-target.ts';
import type { StripeMode } from './doctor.ts';

const USAGE = `usage: dunning [--local [URL] | --stack NAME] [--verbose] <command>

commands:
  cases [--status open|recovered|terminated|needs_attention|closed]   list cases
  case <invoiceId>                          a case and its full timeline
  retry-now <invoiceId>                     charge the customer's card now
  pause <invoiceId> [--until DATE]          send and charge nothing until DATE (or until resumed); with
                                            --local, DATE is in the case's clock, as \`case\` shows it
  resume <invoiceId>                        lift a pause
  close <invoiceId> --reason TEXT           close the case ("closed by operator: TEXT")
  replay <event.json | evt_…>               run one Stripe event through the router again
  unsuppress <email> --reason TEXT          email an address again after a bounce or complaint
  redrive <executionName>                   after fixing what failed: reopen a needs_attention case and
                                            re-run its execution from the stage that failed
  report [--since DATE] [--html FILE]       the funnel, recovery rate and recovered revenue; with
                                            --html, the console's charts of them written to FILE
                                            (one HTML file that opens offline) instead
  connect                                   create (or update) the Stripe webhook endpoint for the
                                            target's webhook, with every event type it handles, and
                                            store its signing secret in the target's secret
  doctor [--mode live|test]                 check the target is ready: secrets, the key's mode
                                            (default: live for a stack, test locally), the webhook
                                            endpoint, SES, the alarm subscription, a signed test
                                            event; one line per check, each failure with its fix
  simulate --decline-code CODE | --invoice in_… [--advice-code CODE] [--network-advice-code NN]
           [--brand BRAND] [--time-zone ZONE | --country CC] [--failed-at DATE]
           [--policy FILE] [--policy-name NAME] [--json]
                                            a dry run: the notices, retries and end the policy plans
                                            after that failure, in the customer's time; nothing is
                                            charged or sent. With flags it needs no target; the
                                            policy is --policy, else DUNNING_POLICY_FILE, else the
                                            default (or the target's with --local/--stack)

target:
  (default)        the deployed stack "${DEFAULT_STACK}", found with the standard AWS configuration
                   (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION);
                   DUNNING_POLICY_FILE must be the policy you deployed with
  --stack NAME     another stack name
  --local [URL]    the local runtime of \`npm start\` (default ${DEFAULT_LOCAL_URL})`;

const FLAGS = {
  local: { type: 'string', value: '[URL]' },
  stack: { type: 'string', value: 'NAME' },
  status: { type: 'string', value: 'STATUS' },
  until: { type: 'string', value: 'DATE' },
  reason: { type: 'string', value: 'TEXT' },
  since: { type: 'string', value: 'DATE' },
  html: { type: 'string', value: 'FILE' },
  'decline-code': { type: 'string', value: 'CODE' },
  'advice-code': { type: 'string', value: 'CODE' },
  'network-advice-code': { type: 'string', value: 'NN' },
  brand: { type: 'string', value: 'BRAND' },
  'time-zone': { type: 'string', value: 'ZONE' },
  country: { type: 'string', value: 'CC' },
  'failed-at': { type: 'string', value: 'DATE' },
  policy: { type: 'string', value: 'FILE' },
  'policy-name': { type: 'string', value: 'NAME' },
  invoice: { type: 'string', value: 'in_…' },
  mode: { type: 'string', value: 'live|test' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean' },
} as const satisfies FlagSpec;

/** The flags only some commands take; any other command refuses them rather than ignore them. */
const COMMAND_FLAGS: Record<string, readonly string[]> = {
  status: ['cases'],
  until: ['pause'],
  reason: ['close', 'unsuppress'],
  since: ['report'],
  html: ['report'],
  mode: ['doctor'],
  ...Object.fromEntries(SIMULATE_FLAGS.map((flag) => [flag, ['simulate']])),
};

const COMMANDS = ['cases', 'case', 'retry-now', 'pause', 'resume', 'close', 'replay', 'unsuppress', 'redrive', 'report', 'simulate', 'connect', 'doctor'];

/** A command's line of the usage, e.g. "case <invoiceId>", for an error that should show how to call it. */
function signatureOf(command: string): string {
  const line = USAGE.split('\n').find((l) => l.startsWith(`  ${command} `));
  return `dunning ${line?.trim().split(/\s{2,}/)[0] ?? command}`;
}

/** `--local` takes an optional URL, which parseArgs cannot express: give it its default here. */
export function normaliseArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--local') {
      const next = argv[i + 1];
      if (next && /^https?:\/\//.test(next)) {
        out.push(`--local=${next}`);
        i++;
      } else out.push(`--local=${DEFAULT_LOCAL_URL}`);
    } else out.push(arg);
  }
  return out;
}

/** The options `act` reads, as parseArgs gives them. */
interface ParsedValues extends SimulateFlags {
  status?: string;
  mode?: string;
  until?: string;
  reason?: string;
  since?: string;
  html?: string;
}

export async function run(argv: readonly string[], print: Print): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: normaliseArgs(argv),
      allowPositionals: true,
      options: {
        ...Object.fromEntries(Object.entries(FLAGS).map(([name, { type }]) => [name, { type }])),
        help: { type: 'boolean', short: 'h', default: false },
      },
    }) as { values: ParsedValues & { local?: string; stack?: string; verbose?: boolean; help?: boolean }; positionals: string[] };
  } catch (error) {
    throw new CliError(flagProblem(error as Error & { code?: string }, argv, FLAGS), 2);
  }
  const { values, positionals } = parsed;
  const [command, arg, ...extra] = positionals;
  if (values.help || !command) {
    print(USAGE);
    if (!values.help) throw new CliError('no command given', 2);
    return;
  }
  const needsArg = ['case', 'retry-now', 'pause', 'resume', 'close', 'replay', 'redrive', 'unsuppress'];
  if (!COMMANDS.includes(command)) throw new CliError(`unknown command "${command}"; commands: ${COMMANDS.join(', ')} (dunning --help for usage)`, 2);
  if (needsArg.includes(command) && !arg) throw new CliError(`${command} needs an argument: ${signatureOf(command)}`, 2);
  if (extra.length > 0 || (!needsArg.includes(command) && arg)) throw new CliError(`${command}: unexpected argument "${extra[0] ?? arg}"`, 2);
  const misplaced = Object.entries(COMMAND_FLAGS).find(([flag, commands]) => values[flag as keyof ParsedValues] !== undefined && !commands.includes(command));
  if (misplaced) throw new CliError(`--${misplaced[0]} is not a flag of ${command}; it goes with ${misplaced[1].join(', ')}`, 2);
  if (values.status !== undefined && !STATUSES.includes(values.status as CaseStatus)) {
    throw new CliError(`--status ${values.status}: must be one of ${STATUSES.join(', ')}`, 2);
  }
  if (command === 'close' && !values.reason?.trim()) throw new CliError('close needs --reason TEXT (it is recorded on the case)', 2);
  if (command === 'unsuppress' && !values.reason?.trim()) {
    throw new CliError('unsuppress needs --reason TEXT (it is recorded on the cases): why may this address be emailed again?', 2);
  }
  if (values.local !== undefined && values.stack !== undefined) throw new CliError('give --local or --stack, not both', 2);
  // Checked before the target is looked for: a typo in a date is the thing to hear about first.
  if (values.until !== undefined) dateOption('until', values.until);
  if (values.since !== undefined) dateOption('since', values.since);
  const htmlFile = values.html !== undefined ? htmlFileOption(values.html) : undefined;
  if (command === 'simulate') checkSimulateFlags(values, signatureOf('simulate'));

  const wantsTarget = values.local !== undefined || values.stack !== undefined;
  if (command === 'simulate' && values.invoice === undefined) {
    // A made-up failure needs no stack or runtime: only a policy, the target's when one is named.
    const target: Target | undefined = wantsTarget ? await findTarget(values) : undefined;
    const policies = values.policy !== undefined ? readPolicyFile(values.policy) : (target?.policies ?? readPolicyFile(policyFileOf()));
    simulateFailure(values, policies, print, new Date());
    return;
  }
  if (values.mode !== undefined && !STRIPE_MODES.includes(values.mode as StripeMode)) throw new CliError(`--mode ${values.mode}: must be live or test`, 2);
  const target = await findTarget(values);
  // The doctor reads what the others would fail on (a placeholder key): it builds its own clients.
  if (command === 'doctor') return doctorTarget(target, print, values.mode as StripeMode | undefined);
  const deps = await operatorDeps(target, values.verbose ? stderrLog : undefined);
  try {
    await act(command, arg, { ...values, html: htmlFile }, deps, print, target);
  } finally {
    // Whatever the command did (even if it failed halfway) is counted, as a function's would be.
    await deps.metrics.flush().catch((error: unknown) => {
      process.stderr.write(
        `dunning: warning: the action is done, but its metrics did not reach CloudWatch (${(error as Error).name}: ${(error as Error).message}); the dashboard will not count it. The operator needs cloudwatch:PutMetricData.\n`,
      );
    });
  }
}

function findTarget(values: { local?: string; stack?: string }): Promise<Target> {
  return values.local !== undefined ? localTarget(values.local) : stackTarget(values.stack ?? DEFAULT_STACK);
}

async function act(command: string, arg: string | undefined, values: ParsedValues, deps: OperatorDeps, print: Print, target: Target): Promise<void> {
  switch (command) {
    case 'cases':
      return listCases(deps, print, values.status as CaseStatus | undefined);
    case 'case':
      return showCase(deps, print, arg!);
    case 'retry-now':
      return retryCaseNow(deps, print, arg!);
    case 'pause':
      return pause(deps, print, arg!, values.until);
    case 'resume':
      return resume(deps, print, arg!);
    case 'close':
      return close(deps, print, arg!, values.reason!.trim());
    case 'replay':
      return replay(deps, print, arg!);
    case 'redrive':
      return redrive(deps, print, arg!);
    case 'unsuppress':
      return unsuppress(deps, print, arg!, values.reason!.trim());
    case 'report':
      return report(deps, print, values.since, values.html !== undefined ? { path: values.html, target: target.label } : undefined);
    case 'connect':
      return connectTarget(deps, target, print);
    case 'simulate':
      return simulateInvoice(deps, { ...values, invoice: values.invoice! }, print, values.policy !== undefined ? readPolicyFile(values.policy) : undefined);
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  // `dunning case in_… | head -3`: the reader had what it wanted; that is not a failure.
  exitQuietlyOnClosedPipe();
  try {
    await run(argv, (text) => process.stdout.write(`${text}\n`));
    return 0;
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`dunning: ${error.message}\n`);
      return error.exitCode;
    }
    const e = error as Error;
    // An AWS or Stripe failure after discovery: one line, and the stack only when asked for.
    process.stderr.write(`dunning: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}\n`);
    if (argv.includes('--verbose') || process.env.DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
    return 1;
  }
}
