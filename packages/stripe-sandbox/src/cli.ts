// Runs the Stripe sandbox on its own:
//   npx stripe-sandbox --port 12111 --webhook-url http://127.0.0.1:3000/webhook --webhook-secret whsec_x [--data-dir .dunning-data]
//     [--retry-days 1,3,5] [--end-of-retries cancel|unpaid|past_due]
//     [--delivery stripe|ordered] [--delivery-seed n] [--rate-limits test|live|off|<global>/<perEndpoint>]
import { parseArgs } from 'node:util';
import { parseRateLimits, startStripeSandbox, type RateLimitSetting } from './index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '12111' },
    host: { type: 'string', default: '127.0.0.1' },
    'webhook-url': { type: 'string' },
    'webhook-secret': { type: 'string' },
    'data-dir': { type: 'string' },
    delivery: { type: 'string', default: 'stripe' },
    'delivery-seed': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    // The account's "Manage failed payments": a custom retry schedule (days after each failure;
    // none by default) and what happens to the subscription when it is over (Stripe's default: cancel).
    'retry-days': { type: 'string' },
    'end-of-retries': { type: 'string', default: 'cancel' },
    // Stripe's rate limits (docs.stripe.com/rate-limits): test mode's 25/s by default.
    'rate-limits': { type: 'string', default: 'test' },
  },
});

let rateLimits: RateLimitSetting;
try {
  rateLimits = parseRateLimits(values['rate-limits']);
} catch (err) {
  console.error(`--rate-limits: ${(err as Error).message}`);
  process.exit(2);
}

const endOfRetries = values['end-of-retries'];
if (endOfRetries !== 'cancel' && endOfRetries !== 'unpaid' && endOfRetries !== 'past_due') {
  console.error('--end-of-retries is one of cancel, unpaid, past_due');
  process.exit(2);
}
const retryDays = (values['retry-days'] ?? '').split(',').filter(Boolean).map(Number);
if (retryDays.some((d) => !Number.isFinite(d) || d <= 0)) {
  console.error('--retry-days is a comma-separated list of days, e.g. 1,3,5');
  process.exit(2);
}

const webhookUrl = values['webhook-url'];
const webhookSecret = values['webhook-secret'];
if ((webhookUrl === undefined) !== (webhookSecret === undefined)) {
  console.error('--webhook-url and --webhook-secret go together');
  process.exit(2);
}

if (values.delivery !== 'stripe' && values.delivery !== 'ordered') {
  console.error('--delivery is stripe (as Stripe delivers: shuffled, some twice, retried hours later) or ordered');
  process.exit(2);
}
const seed = values['delivery-seed'] === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(values['delivery-seed']);
if (!Number.isInteger(seed) || seed < 0) {
  console.error('--delivery-seed is a whole number');
  process.exit(2);
}

const sandbox = await startStripeSandbox({
  port: Number(values.port),
  host: values.host,
  dataDir: values['data-dir'],
  webhook: webhookUrl && webhookSecret ? { url: webhookUrl, secret: webhookSecret } : undefined,
  delivery: { mode: values.delivery, seed },
  log: values.quiet ? undefined : (line) => console.error(line),
  automaticRetryDays: retryDays,
  subscriptionAfterRetries: endOfRetries,
  rateLimits,
});
console.log(`Stripe sandbox listening on ${sandbox.url}`);
console.log(`  new Stripe('sk_test_anything', { host: '${values.host}', port: ${sandbox.port}, protocol: 'http' })`);
const limits = sandbox.rateLimits();
console.log(`  rate limits: ${limits ? `${limits.global}/s for the account, ${limits.perEndpoint}/s per endpoint` : 'off'}`);
if (webhookUrl) console.log(`  webhooks → ${webhookUrl} (${values.delivery === 'ordered' ? 'ordered' : `as Stripe delivers, seed ${seed}`})`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void sandbox.close().then(() => process.exit(0));
  });
}
