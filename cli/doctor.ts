// `dunning doctor`: is this target ready to recover revenue? One line per check, pass or fail, each
// failure with its fix. The checks read what the product itself will use (the secrets by ARN, the
// key against Stripe, the endpoint through Stripe's API, SES's account and identity, the alarm
// topic's subscriptions) and end with a signed test event posted to the webhook, as Stripe would.
// Nothing here prints a secret.
import Stripe from 'stripe';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { isSigningSecret, listEndpoints, sameUrl } from './connect.ts';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** For a failure: what to do about it. */
  fix?: string;
}

export type StripeMode = 'live' | 'test';

export interface SesAnswers {
  /** Whether SES lets `identity` send (VerifiedForSendingStatus); undefined when SES has no such identity. */
  identityVerified(identity: string): Promise<boolean | undefined>;
  account(): Promise<{ productionAccess: boolean; sendingEnabled: boolean }>;
}

export interface AlarmSubscriptions {
  topicArn: string;
  /** The topic's subscriptions: `pending` while the confirmation link has not been clicked. */
  list(): Promise<Array<{ protocol: string; endpoint: string; pending: boolean }>>;
}

export interface DoctorDeps {
  /** Where the Stripe key comes from: a secret by ARN (a stack), or given as is (the local runtime). */
  stripeKey: { secretArn: string } | { value: string };
  webhook?: { url: string; signingSecretArn: string };
  readSecret(arn: string): Promise<string | undefined>;
  stripeFor(apiKey: string): Stripe;
  expectedMode: StripeMode;
  sender: string;
  ses: SesAnswers;
  /** Absent: no alarm topic of the stack's own to check (the local runtime, or a topic you gave). */
  alarms?: AlarmSubscriptions;
  /** Posts a delivery to the webhook; resolves with its status and body. */
  post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }>;
  now?: () => Date;
  /**
   * How long to wait before sending the test event once more when the webhook refused its signature:
   * a webhook container reads a changed secret again at most every 10 s (WEBHOOK_SECRET_MIN_REFRESH_MS),
   * so right after a second `connect` it may still hold the one before. Default 11 s.
   */
  signatureRetryMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const STRIPE_KEY = /^(sk|rk)_(live|test)_[A-Za-z0-9_]{8,}$/;

/** Runs every check, in order; a check that cannot run because an earlier one failed says so. */
export async function runDoctor(deps: DoctorDeps): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const put = (result: CheckResult) => results.push(result);

  // 1. The secrets hold real values.
  const apiKey = 'value' in deps.stripeKey ? deps.stripeKey.value : await safeRead(deps, deps.stripeKey.secretArn);
  const keyWhere = 'secretArn' in deps.stripeKey ? `the secret ${deps.stripeKey.secretArn}` : 'the local runtime';
  const keyMatch = apiKey ? STRIPE_KEY.exec(apiKey.trim()) : null;
  if (keyMatch) put({ name: 'Stripe key', status: 'pass', detail: `${keyWhere} holds a ${keyMatch[2]}-mode ${keyMatch[1] === 'rk' ? 'restricted' : 'secret'} key` });
  else {
    put({
      name: 'Stripe key',
      status: 'fail',
      detail: `${keyWhere} holds no Stripe key (${apiKey ? 'not sk_… or rk_…: still the deploy placeholder?' : 'no value'})`,
      fix: 'secretArn' in deps.stripeKey ? `aws secretsmanager put-secret-value --secret-id ${deps.stripeKey.secretArn} --secret-string sk_live_… (or a restricted rk_ key)` : 'set STRIPE_API_KEY',
    });
  }
  const signingSecret = deps.webhook ? await safeRead(deps, deps.webhook.signingSecretArn) : undefined;
  if (!deps.webhook) put({ name: 'webhook secret', status: 'skip', detail: 'the target has no webhook (EventBridge ingest): Stripe signs nothing to check' });
  else if (isSigningSecret(signingSecret)) put({ name: 'webhook secret', status: 'pass', detail: `the secret ${deps.webhook.signingSecretArn} holds a signing secret (whsec_…)` });
  else put({ name: 'webhook secret', status: 'fail', detail: `the secret ${deps.webhook.signingSecretArn} holds no signing secret (still the deploy placeholder?)`, fix: 'npx dunning connect' });

  // 2. The key is for the mode you expect, and Stripe takes it.
  let stripe: Stripe | undefined;
  if (!keyMatch) put({ name: 'Stripe mode', status: 'fail', detail: 'no key to check', fix: 'fix the Stripe key first' });
  else if (keyMatch[2] !== deps.expectedMode) {
    put({ name: 'Stripe mode', status: 'fail', detail: `the key is for ${keyMatch[2]} mode; expected ${deps.expectedMode}`, fix: `put the ${deps.expectedMode}-mode key in its secret, or pass --mode ${keyMatch[2]} if ${keyMatch[2]} mode is what you mean` });
  } else {
    stripe = deps.stripeFor(apiKey!.trim());
    put({ name: 'Stripe mode', status: 'pass', detail: `${deps.expectedMode} mode, as expected` });
  }

  // 3. The webhook endpoint.
  if (!deps.webhook) put({ name: 'webhook endpoint', status: 'skip', detail: 'the target has no webhook (EventBridge ingest)' });
  else if (!stripe) put({ name: 'webhook endpoint', status: 'fail', detail: 'not checked: no usable Stripe key', fix: 'fix the Stripe key first' });
  else put(await checkEndpoint(stripe, deps.webhook.url));

  // 4. SES: the sender's identity, and the account out of the sandbox.
  put(await checkIdentity(deps));
  put(await checkAccount(deps));

  // 5. The alarm subscription.
  put(await checkAlarms(deps));

  // 6. A signed test event, accepted by the webhook.
  if (!deps.webhook) put({ name: 'test event', status: 'skip', detail: 'the target has no webhook' });
  else if (!isSigningSecret(signingSecret)) put({ name: 'test event', status: 'fail', detail: 'not sent: no signing secret to sign it with', fix: 'npx dunning connect' });
  else put(await sendTestEvent(deps, deps.webhook.url, signingSecret!.trim(), keyMatch?.[2] === 'live'));
  return results;
}

async function safeRead(deps: DoctorDeps, arn: string): Promise<string | undefined> {
  try {
    return await deps.readSecret(arn);
  } catch {
    return undefined;
  }
}

async function checkEndpoint(stripe: Stripe, url: string): Promise<CheckResult> {
  const name = 'webhook endpoint';
  let endpoints: Stripe.WebhookEndpoint[];
  try {
    endpoints = await listEndpoints(stripe);
  } catch (error) {
    return { name, status: 'fail', detail: `Stripe refused to list webhook endpoints: ${(error as Error).message}`, fix: 'a key that Stripe takes, allowed to read Webhook Endpoints' };
  }
  const here = endpoints.filter((endpoint) => sameUrl(endpoint.url, url));
  if (here.length === 0) return { name, status: 'fail', detail: `no webhook endpoint in Stripe posts to ${url}`, fix: 'npx dunning connect' };
  const enabled = here.filter((endpoint) => endpoint.status === 'enabled');
  if (enabled.length === 0) return { name, status: 'fail', detail: `${here.map((e) => e.id).join(', ')} at ${url} is disabled`, fix: 'npx dunning connect' };
  const endpoint = enabled[0]!;
  const missing = endpoint.enabled_events.includes('*') ? [] : HANDLED_EVENT_TYPES.filter((type) => !endpoint.enabled_events.includes(type));
  if (missing.length > 0) return { name, status: 'fail', detail: `${endpoint.id} is not sent ${missing.join(', ')}`, fix: 'npx dunning connect' };
  if (enabled.length > 1) return { name, status: 'fail', detail: `${enabled.map((e) => e.id).join(', ')} all post to ${url}: every event arrives more than once`, fix: 'npx dunning connect (it keeps one)' };
  return { name, status: 'pass', detail: `${endpoint.id} is enabled for ${url} with every handled event type (API version ${endpoint.api_version ?? 'the account default'})` };
}

async function checkIdentity(deps: DoctorDeps): Promise<CheckResult> {
  const name = 'SES sender';
  const domain = deps.sender.split('@')[1] ?? '';
  try {
    const address = await deps.ses.identityVerified(deps.sender);
    const byDomain = address ? undefined : await deps.ses.identityVerified(domain);
    if (address || byDomain) return { name, status: 'pass', detail: `${address ? deps.sender : domain} is verified for sending` };
    const which = address === false ? deps.sender : byDomain === false ? domain : undefined;
    return {
      name,
      status: 'fail',
      detail: which ? `${which} is not verified yet` : `neither ${deps.sender} nor ${domain} is an SES identity in this region`,
      fix: `verify the domain in SES (aws sesv2 create-email-identity --email-identity ${domain}, then publish its DKIM records), or the address (its confirmation link)`,
    };
  } catch (error) {
    return { name, status: 'fail', detail: `SES did not answer: ${(error as Error).name}: ${(error as Error).message}`, fix: 'the operator needs ses:GetEmailIdentity' };
  }
}

async function checkAccount(deps: DoctorDeps): Promise<CheckResult> {
  const name = 'SES account';
  try {
    const account = await deps.ses.account();
    if (!account.sendingEnabled) return { name, status: 'fail', detail: 'sending is paused on this SES account', fix: 'see the SES console (Account dashboard) for why, and resume sending' };
    if (!account.productionAccess) {
      return { name, status: 'fail', detail: 'the account is in the SES sandbox: it can email verified addresses only', fix: 'request production access: SES console → Account dashboard → Request production access' };
    }
    return { name, status: 'pass', detail: 'out of the SES sandbox, sending enabled' };
  } catch (error) {
    return { name, status: 'fail', detail: `SES did not answer: ${(error as Error).name}: ${(error as Error).message}`, fix: 'the operator needs ses:GetAccount' };
  }
}

async function checkAlarms(deps: DoctorDeps): Promise<CheckResult> {
  const name = 'alarm subscription';
  if (!deps.alarms) return { name, status: 'skip', detail: 'no alarm topic of the stack\'s own (the local runtime prints its alarms; a topic you gave is yours to check)' };
  try {
    const subscriptions = await deps.alarms.list();
    const confirmed = subscriptions.filter((s) => !s.pending);
    if (confirmed.length > 0) return { name, status: 'pass', detail: `confirmed: ${confirmed.map((s) => `${s.protocol} ${s.endpoint}`).join(', ')}` };
    if (subscriptions.length > 0) {
      return { name, status: 'fail', detail: `${subscriptions.map((s) => s.endpoint).join(', ')} has not confirmed: no alarm reaches anyone`, fix: 'click the link in the "AWS Notification - Subscription Confirmation" email' };
    }
    return { name, status: 'fail', detail: `the topic ${deps.alarms.topicArn} has no subscription: no alarm reaches anyone`, fix: `deploy with -c alarmEmail=oncall@… or aws sns subscribe --topic-arn ${deps.alarms.topicArn} --protocol email --notification-endpoint oncall@…` };
  } catch (error) {
    return { name, status: 'fail', detail: `SNS did not answer: ${(error as Error).name}: ${(error as Error).message}`, fix: 'the operator needs sns:ListSubscriptionsByTopic' };
  }
}

/** An event of a type no route handles (`dunning.doctor`), signed as Stripe signs: the webhook takes it into the queue, the router ignores it. */
async function sendTestEvent(deps: DoctorDeps, url: string, secret: string, livemode: boolean): Promise<CheckResult> {
  const name = 'test event';
  const signed = (now: Date) => {
    const id = `evt_doctor_${now.getTime().toString(36)}`;
    const t = Math.floor(now.getTime() / 1000);
    const body = JSON.stringify({ id, object: 'event', type: 'dunning.doctor', created: t, livemode, data: { object: { id: 'doctor', object: 'dunning_doctor' } } });
    // Signed by the SDK's own signer, as Stripe signs a delivery.
    const signature = Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: t });
    return { id, body, headers: { 'content-type': 'application/json', 'stripe-signature': signature } };
  };
  const refusedSignature = (answer: { status: number; body: string }) => answer.status === 400 && /signature/.test(answer.body);
  try {
    let event = signed(deps.now?.() ?? new Date());
    let answer = await deps.post(url, event.body, event.headers);
    if (refusedSignature(answer)) {
      await (deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))))(deps.signatureRetryMs ?? 11_000);
      event = signed(deps.now?.() ?? new Date());
      answer = await deps.post(url, event.body, event.headers);
    }
    if (answer.status === 200) return { name, status: 'pass', detail: `the webhook took ${event.id} (200)` };
    const why = refusedSignature(answer) ? ': the webhook checks signatures with another secret than the one stored' : '';
    return { name, status: 'fail', detail: `the webhook answered ${answer.status} ${answer.body.slice(0, 200)}${why}`, fix: "npx dunning connect stores the endpoint's secret where the webhook reads it; see the runbook row for WebhookSignatureRejections" };
  } catch (error) {
    return { name, status: 'fail', detail: `no answer from ${url}: ${(error as Error).message}`, fix: 'is the stack deployed (or npm start running)?' };
  }
}

/** The report, one line per check: ✓ pass, ✗ fail with its fix, – skipped. */
export function formatDoctor(results: readonly CheckResult[]): string[] {
  return results.map((r) => {
    const mark = r.status === 'pass' ? '✓' : r.status === 'fail' ? '✗' : '–';
    return `${mark} ${r.name}: ${r.detail}${r.fix ? ` — fix: ${r.fix}` : ''}`;
  });
}
