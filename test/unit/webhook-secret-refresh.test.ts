// A webhook container holds the signing secret it read at its start. When `dunning connect` stores a
// new endpoint's secret (or a secret is rolled in Stripe), deliveries signed with the new one must be
// taken at once, not after the cache's five minutes of 400s; and forged deliveries must not turn into
// one Secrets Manager read each.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { RefreshableSecret } from '#shared/adapters/secret-string.ts';
import { silentLog } from '#shared/dunning/deps.ts';
import { verifyStripeSignature } from '#shared/dunning/stripe-signature.ts';
import { receiveWebhook, type WebhookDeps } from '#shared/dunning/webhook.ts';
import { recordingMetrics } from '../fixtures/metrics.ts';

const event = { id: 'evt_new_secret', object: 'event', type: 'invoice.payment_failed', livemode: false, created: 1_700_000_000, data: { object: { id: 'in_1', customer: 'cus_1' } } };
const payload = JSON.stringify(event);
const signedWith = (secret: string) => ({ method: 'POST', rawBody: payload, signature: Stripe.webhooks.generateTestHeaderString({ payload, secret }) });

/** A webhook whose secret store holds `stored.value`; `reads` counts the reads, `clock.ms` is now. */
async function webhook(initial: string) {
  const stored = { value: initial, unavailable: false };
  const clock = { ms: 1_000_000 };
  let reads = 0;
  const secret = await RefreshableSecret.load(
    async () => {
      reads++;
      if (stored.unavailable) throw new Error('Secrets Manager unavailable');
      return stored.value;
    },
    { minRefreshMs: 10_000, now: () => clock.ms },
  );
  const queued: string[] = [];
  const deps: WebhookDeps = {
    log: silentLog,
    metrics: recordingMetrics(),
    verify: (rawBody, signature) => verifyStripeSignature(rawBody, signature, secret.current),
    refreshSecret: () => secret.refresh(),
    inbox: { store: async (e) => void queued.push(e.id) },
  };
  return { deps, stored, clock, queued, reads: () => reads };
}

describe('a webhook whose signing secret changed after it read it', () => {
  it('reads the secret again on a signature that does not match, at once, and takes the delivery', async () => {
    const w = await webhook('whsec_old');
    w.stored.value = 'whsec_new';

    const response = await receiveWebhook(w.deps, signedWith('whsec_new'));

    expect(response.statusCode).toBe(200);
    expect(w.queued).toEqual(['evt_new_secret']);
    expect(w.reads()).toBe(2);
  });

  it('reads it again at most once in ten seconds after that, however many forged deliveries come', async () => {
    const w = await webhook('whsec_old');

    for (let i = 0; i < 5; i++) expect((await receiveWebhook(w.deps, signedWith('whsec_forged'))).statusCode).toBe(400);
    expect(w.reads()).toBe(2);
    w.clock.ms += 9_000;
    expect((await receiveWebhook(w.deps, signedWith('whsec_forged'))).statusCode).toBe(400);
    expect(w.reads()).toBe(2);
    w.clock.ms += 1_000;
    expect((await receiveWebhook(w.deps, signedWith('whsec_forged'))).statusCode).toBe(400);
    expect(w.reads()).toBe(3);
    expect(w.queued).toEqual([]);
  });

  it('still answers 400, without storing, when the read again fails', async () => {
    const w = await webhook('whsec_old');
    w.stored.unavailable = true;

    const response = await receiveWebhook(w.deps, signedWith('whsec_new'));

    expect(response.statusCode).toBe(400);
    expect(w.reads()).toBe(2);
    expect(w.queued).toEqual([]);
  });
});
