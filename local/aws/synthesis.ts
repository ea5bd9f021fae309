// Synthesizes the DunningStack in-process for the local runtime, and keeps each synthesis in a cache
// keyed by its inputs and the code that builds it, so a runtime that starts again skips CDK.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DunningFunctionName, RequestBudgets } from '#infra/constructs/dunning-function.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import type { Template } from './intrinsics.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The stack's name locally, as `cdk deploy` names it (infra/app.ts). */
export const STACK_NAME = 'Dunning';

/** What a synthesis depends on besides the code: the policy file, the sender and the ingest. */
export interface SynthesisInputs {
  policies: PolicySet;
  sender: string;
  replyTo?: readonly string[];
  /** Deploy the EventBridge ingest too (handle-eventbridge). */
  eventBridgeBusName?: string;
  /** DUNNING_STRIPE_BUDGET / DUNNING_EMAIL_BUDGET, as `cdk deploy` takes them. */
  budget?: RequestBudgets;
}

/**
 * What the local runtime takes from a synthesis, before anything is resolved to local names: the
 * template, and what only the constructs know (which function runs which handler, the policy each
 * bundles, which secret is which, each alarm's construct id).
 */
export interface Synthesis {
  template: Template;
  functions: Array<{ logicalId: string; name: DunningFunctionName; bundledPolicyJson?: string }>;
  stateMachineId: string;
  /** Each secret's ARN as the template spells it (a `Ref`). */
  secrets: { stripeApiKey: unknown; webhookSigningSecret: unknown; linkSigningKey: unknown };
  alarms: Array<{ id: string; logicalId: string }>;
}

async function synthesize(options: SynthesisInputs): Promise<Synthesis> {
  // Imported here, not above: a synthesis found in the cache needs none of CDK (a second or two).
  const [{ App }, { DunningFunction }, { DunningStack }] = await Promise.all([
    import('aws-cdk-lib'),
    import('#infra/constructs/dunning-function.ts'),
    import('#infra/stacks/dunning-stack.ts'),
  ]);
  // Bundling off: the local runtime runs the sources, and the template is the same either way.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new DunningStack(app, STACK_NAME, {
    dunning: {
      policy: options.policies,
      email: { sender: options.sender, replyTo: options.replyTo?.length ? [...options.replyTo] : undefined },
      ...(options.eventBridgeBusName ? { ingest: { eventBridge: { eventBusName: options.eventBridgeBusName } } } : {}),
      ...(options.budget ? { budget: options.budget } : {}),
    },
  });
  const template = app.synth().getStackByName(stack.stackName).template as Template;
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  const workflow = stack.dunning;
  const functions: Synthesis['functions'] = [];
  for (const construct of stack.node.findAll()) {
    if (!(construct instanceof DunningFunction)) continue;
    functions.push({
      logicalId: logicalId(construct),
      name: construct.name,
      bundledPolicyJson: construct.bundledPolicies ? JSON.stringify(construct.bundledPolicies) : undefined,
    });
  }
  return {
    template,
    functions,
    stateMachineId: logicalId(workflow.stateMachine),
    secrets: {
      stripeApiKey: stack.resolve(workflow.secrets.apiKey.secretArn),
      webhookSigningSecret: stack.resolve(workflow.secrets.webhookSigningSecret.secretArn),
      linkSigningKey: stack.resolve(workflow.updatePaymentLink.signingKey.secretArn),
    },
    alarms: workflow.alarms.all.map((alarm) => ({ id: alarm.node.id, logicalId: logicalId(alarm) })),
  };
}

/** Where syntheses are kept between runs (gitignored with node_modules). */
const CACHE_DIR = join(PROJECT_ROOT, 'node_modules/.cache/dunning-synthesis');

/**
 * A synthesis depends only on its inputs and on the code that builds the stack: the same policy,
 * sender and ingest under the same infra/, shared/ and installed packages give the same template.
 * The key hashes all of those, so an edit to a construct (or an upgrade of aws-cdk-lib) synthesizes
 * afresh, and each test file that starts a runtime skips CDK otherwise.
 */
export async function cachedSynthesis(options: SynthesisInputs): Promise<Synthesis> {
  const key = createHash('sha256')
    .update(JSON.stringify([options.policies, options.sender, options.replyTo ?? [], options.eventBridgeBusName ?? null, options.budget ?? null]))
    .update(sourceDigest())
    .digest('hex')
    .slice(0, 32);
  const file = join(CACHE_DIR, `${key}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Synthesis;
  } catch {
    // Not synthesized yet, or an unreadable entry: synthesize and keep it.
  }
  const synthesis = await synthesize(options);
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    // Written whole, then renamed: a test process starting at the same moment never reads half of it.
    const partial = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(partial, JSON.stringify(synthesis));
    renameSync(partial, file);
  } catch {
    // A read-only checkout still runs: it synthesizes every time.
  }
  return synthesis;
}

let digest: string | undefined;

/** The content of everything a synthesis is built from: the stack's code and the installed packages. */
function sourceDigest(): string {
  if (digest) return digest;
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|json|mjs)$/.test(entry.name)) hash.update(path).update(readFileSync(path));
    }
  };
  for (const dir of ['infra', 'shared', 'local/aws']) walk(join(PROJECT_ROOT, dir));
  hash.update(readFileSync(join(PROJECT_ROOT, 'package-lock.json')));
  digest = hash.digest('hex');
  return digest;
}
