// A customer's language and time zone, read from Stripe when the case opens, reach the emails they get.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSesInbox } from '#local/ses.ts';
import { caseFor, renew, startTestRuntime, subscribeWithDecliningCard, waitFor, type TestRuntime } from '../fixtures/scenario.ts';

let t: TestRuntime;
beforeAll(async () => {
  // Days long enough that only the first notice goes out during the test.
  t = await startTestRuntime({ dayMs: 60_000 });
});
afterAll(async () => {
  await t?.close();
});

describe("the customer's language and time zone", () => {
  it('sends a French customer the first notice in French, and keeps their time zone on the case for dates', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Émilie du Châtelet');
    await t.stripe.customers.update(subscriber.customerId, {
      preferred_locales: ['fr-FR', 'en'],
      metadata: { time_zone: 'Pacific/Auckland' },
    });

    await renew(t.stripe, subscriber);
    const email = await waitFor(
      async () => (await readSesInbox(t.runtime.urls.ses)).find((m) => m.to.includes(subscriber.email)),
      30_000,
      'the first notice',
    );

    expect(await caseFor(t.runtime, subscriber.subscriptionId)).toMatchObject({ customerLocale: 'fr-FR', customerTimeZone: 'Pacific/Auckland' });
    expect(email.subject).toBe("Nous n'avons pas pu encaisser votre paiement");
    expect(email.text).toContain('Bonjour Émilie,');
    expect(email.text).toMatch(/15,00\s£GB/);
    expect(email.html).toContain('<html lang="fr">');
  });

  it('ignores a time zone in metadata that is not one, and keeps the policy zone', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Zone Less');
    await t.stripe.customers.update(subscriber.customerId, { metadata: { time_zone: 'Europe/Atlantis' } });

    await renew(t.stripe, subscriber);
    const dunningCase = await waitFor(() => caseFor(t.runtime, subscriber.subscriptionId), 30_000, 'the case');

    expect(dunningCase.customerTimeZone).toBeUndefined();
  });
});
