// Runs the Stripe sandbox on its own:
//   npx tsx local/stripe-sandbox/cli.ts --port 12111 --webhook-url http://127.0.0.1:3000/webhook --webhook-secret whsec_x [--data-dir .dunning-data]
//   [--delivery stripe|ordered] [--delivery-seed n]
import { parseArgs } from 'node:util';
import { startStripeSandbox } from './index.ts';

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
  },
});

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
});
console.log(`Stripe sandbox listening on ${sandbox.url}`);
console.log(`  new Stripe('sk_test_anything', { host: '${values.host}', port: ${sandbox.port}, protocol: 'http' })`);
if (webhookUrl) console.log(`  webhooks → ${webhookUrl} (${values.delivery === 'ordered' ? 'ordered' : `as Stripe delivers, seed ${seed}`})`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void sandbox.close().then(() => process.exit(0));
  });
}
