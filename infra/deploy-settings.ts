// What `cdk synth` / `cdk deploy` takes from context and the environment, refused when a deploy would
// send mail nobody receives: no sender, a sender at a reserved example domain, or a policy whose
// brand links point at this machine. Pure, so each refusal is tested without a synth.
import { SettingsError } from '#shared/command-line.ts';
import { BudgetConfigSchema, ENV, readConfig } from '#shared/config.ts';
import type { RequestBudgets } from './constructs/dunning-function.ts';
import { DEFAULT_POLICY_NAME, type PolicySet } from '#shared/policy/segments.ts';

export interface DeploySettings {
  readonly sender: string;
  readonly replyTo?: string[];
  readonly alarmEmail?: string;
  /** DUNNING_STRIPE_BUDGET and DUNNING_EMAIL_BUDGET (or `-c stripeBudget=40/10 -c emailBudget=10`). */
  readonly budget?: RequestBudgets;
}

function readBudget(context: ContextReader, env: NodeJS.ProcessEnv): RequestBudgets | undefined {
  return budgetOf(context('stripeBudget') ?? env[ENV.stripeBudget], context('emailBudget') ?? env[ENV.emailBudget]);
}

/**
 * The request budget a deployer (or `npm start`) set as DUNNING_STRIPE_BUDGET and
 * DUNNING_EMAIL_BUDGET, validated as the functions validate it; undefined: the defaults.
 */
export function budgetOf(stripe: unknown, email: unknown): RequestBudgets | undefined {
  if (stripe === undefined && email === undefined) return undefined;
  let parsed;
  try {
    parsed = readConfig(BudgetConfigSchema, {
      ...(stripe !== undefined ? { [ENV.stripeBudget]: String(stripe) } : {}),
      ...(email !== undefined ? { [ENV.emailBudget]: String(email) } : {}),
    });
  } catch (error) {
    throw new SettingsError((error as Error).message.replace(/^Invalid configuration: /, 'Request budget: '));
  }
  return {
    ...(parsed.stripeBudget ? { stripe: parsed.stripeBudget } : {}),
    ...(parsed.emailBudget !== undefined ? { emailsPerSecond: parsed.emailBudget } : {}),
  };
}

/** Reads a context value (`-c key=value`), as `app.node.tryGetContext` does. */
export type ContextReader = (key: string) => unknown;

const SENDER_FIX = 'pass -c sender=billing@yourdomain.com or set DUNNING_SENDER (an address SES has verified)';
const POLICY_FIX = 'set DUNNING_POLICY_FILE to your policy (examples/policy.json is one to start from)';

/**
 * Domains that never receive mail (RFC 2606 and RFC 6761): example.com/.net/.org and the .example,
 * .test, .invalid and .localhost top-level domains, with anything under them.
 */
export function isReservedDomain(domain: string): boolean {
  return /(^|\.)(example\.(com|net|org)|example|test|invalid|localhost)\.?$/i.test(domain);
}

/** A host that is this machine, or a reserved domain: a link to it works for no customer. */
function deadHost(hostname: string): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || /\.localhost\.?$/.test(host) || /^127\./.test(host) || host === '::1' || host === '0.0.0.0') {
    return 'points at this machine';
  }
  if (isReservedDomain(host)) return 'is at a reserved example domain';
  return undefined;
}

export function readDeploySettings(context: ContextReader, env: NodeJS.ProcessEnv): DeploySettings {
  const sender = String(context('sender') ?? env.DUNNING_SENDER ?? '').trim();
  if (!sender) throw new SettingsError(`No sender: every notice needs a From address; ${SENDER_FIX}`);
  const address = /<([^<>]+)>\s*$/.exec(sender)?.[1]?.trim() ?? sender;
  const domain = address.slice(address.lastIndexOf('@') + 1);
  if (address.includes('@') && isReservedDomain(domain)) {
    throw new SettingsError(`Sender ${address} is at a reserved example domain, so no notice would be delivered; ${SENDER_FIX}`);
  }
  const replyTo = String(context('replyTo') ?? env.DUNNING_REPLY_TO ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const alarmEmail = context('alarmEmail') ?? env.DUNNING_ALARM_EMAIL;
  return {
    sender,
    replyTo: replyTo.length ? replyTo : undefined,
    alarmEmail: alarmEmail ? String(alarmEmail) : undefined,
    budget: readBudget(context, env),
  };
}

/**
 * Refuses a policy whose brand would put a dead link or address in every email: the bundled
 * default's My Account page is the local runtime's (http://127.0.0.1:3000/account).
 */
export function checkDeployablePolicy(policies: PolicySet, source: string): void {
  for (const [name, policy] of Object.entries(policies.policies)) {
    const at = (field: string) => `${name === DEFAULT_POLICY_NAME ? '' : `policies.${name}.`}brand.${field}`;
    const urls = { myAccountUrl: policy.brand.myAccountUrl, logoUrl: policy.brand.logoUrl };
    for (const [field, url] of Object.entries(urls)) {
      if (url === undefined) continue;
      const why = deadHost(new URL(url).hostname);
      if (why) throw new SettingsError(`${source}: ${at(field)} ${url} ${why}, so every email would carry a dead link; ${POLICY_FIX}`);
    }
    const supportDomain = policy.brand.supportEmail.slice(policy.brand.supportEmail.lastIndexOf('@') + 1);
    if (isReservedDomain(supportDomain)) {
      throw new SettingsError(
        `${source}: ${at('supportEmail')} ${policy.brand.supportEmail} is at a reserved example domain, so no customer could write to it; ${POLICY_FIX}`,
      );
    }
  }
}
