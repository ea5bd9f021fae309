// The demo: three customers on one monthly plan whose renewals fail. One fixes their card after
// notice 1, one after notice 3, one never does. Driven through the Stripe API with the real SDK.
import Stripe from 'stripe';
import type { CaseStore } from '#shared/domain/ports.ts';
import type { DunningCase } from '#shared/domain/case.ts';
import { createStripeClient } from '#shared/adapters/stripe-gateway.ts';
import type { Print } from './timeline.ts';

export interface DemoCustomer {
  name: string;
  email: string;
  /** The notice after which this customer puts in a working card, or never. */
  fixesAfter?: string;
}

export const DEMO_CUSTOMERS: DemoCustomer[] = [
  { name: 'Ada Lovelace', email: 'ada@example.com', fixesAfter: 'Notice1' },
  { name: 'Grace Hopper', email: 'grace@example.com', fixesAfter: 'Notice3' },
  { name: 'Alan Turing', email: 'alan@example.com' },
];

export interface DemoOptions {
  apiKey: string;
  apiBase?: string;
  store: CaseStore;
  print: Print;
  customers?: DemoCustomer[];
  /** How long to wait for every case to close before giving up. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface DemoOutcome {
  customer: DemoCustomer;
  customerId: string;
  subscriptionId: string;
  invoiceId: string;
  caseStatus: DunningCase['status'];
  subscriptionStatus: string;
}

export async function runDemo(options: DemoOptions): Promise<DemoOutcome[]> {
  const stripe = createStripeClient({ apiKey: options.apiKey, apiBase: options.apiBase });
  const { print, store } = options;
  const customers = options.customers ?? DEMO_CUSTOMERS;

  const product = await stripe.products.create({ name: 'Acme Pro' });
  const price = await stripe.prices.create({ product: product.id, unit_amount: 1500, currency: 'gbp', recurring: { interval: 'month' } });

  const started = await Promise.all(
    customers.map(async (customer) => {
      const clock = await stripe.testHelpers.testClocks.create({ frozen_time: Math.floor(Date.now() / 1000), name: customer.name });
      const created = await stripe.customers.create({
        name: customer.name,
        email: customer.email,
        test_clock: clock.id,
        payment_method: 'pm_card_visa',
        invoice_settings: { default_payment_method: 'pm_card_visa' },
      });
      const subscription = await stripe.subscriptions.create({ customer: created.id, items: [{ price: price.id }] });
      // The card on file starts declining before the renewal.
      const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: created.id });
      await stripe.customers.update(created.id, { invoice_settings: { default_payment_method: failing.id } });
      return { customer, clock, customerId: created.id, subscription };
    }),
  );
  print(`demo: ${customers.length} customers subscribed to Acme Pro (£15.00/month); their cards now decline`);

  await Promise.all(
    started.map(({ clock, subscription }) => {
      const periodEnd = subscription.items.data[0]?.current_period_end ?? Math.floor(Date.now() / 1000) + 31 * 86400;
      return stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: periodEnd + 3600 });
    }),
  );
  print('demo: test clocks advanced past the renewal date; the renewals fail');

  const deadline = Date.now() + options.timeoutMs;
  const fixed = new Set<string>();
  const outcomes = new Map<string, DemoOutcome>();
  while (outcomes.size < started.length) {
    if (options.signal?.aborted) throw new Error('demo stopped');
    if (Date.now() > deadline) throw new Error(`demo timed out with ${started.length - outcomes.size} case(s) still open`);
    for (const s of started) {
      if (outcomes.has(s.customerId)) continue;
      const dunningCase = await caseOf(store, s.subscription.id);
      if (!dunningCase) continue;
      const fixesAfter = s.customer.fixesAfter;
      if (fixesAfter && !fixed.has(s.customerId) && dunningCase.noticesSent.includes(fixesAfter)) {
        fixed.add(s.customerId);
        const card = await stripe.paymentMethods.attach('pm_card_visa', { customer: s.customerId });
        await stripe.customers.update(s.customerId, { invoice_settings: { default_payment_method: card.id } });
        print(`demo: ${s.customer.name} updates their card after ${fixesAfter} (Visa •••• ${card.card?.last4 ?? '4242'})`);
      }
      if (dunningCase.status !== 'open') {
        const subscription = await stripe.subscriptions.retrieve(s.subscription.id);
        outcomes.set(s.customerId, {
          customer: s.customer,
          customerId: s.customerId,
          subscriptionId: s.subscription.id,
          invoiceId: dunningCase.invoiceId,
          caseStatus: dunningCase.status,
          subscriptionStatus: subscription.status,
        });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return started.map((s) => outcomes.get(s.customerId)!);
}

async function caseOf(store: CaseStore, subscriptionId: string): Promise<DunningCase | undefined> {
  const cases = await store.listCases();
  return cases.find((c) => c.subscriptionId === subscriptionId);
}

export type { Stripe };
