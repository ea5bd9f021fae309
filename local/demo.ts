// The demo: three customers on one monthly plan whose renewals fail. One fixes their card after
// the policy's first notice, one after its last, one never does. Driven through the Stripe API with
// the real SDK, under the policy the router gives the demo's plan.
import Stripe from 'stripe';
import type { CaseStore } from '#shared/domain/ports.ts';
import type { DunningCase } from '#shared/domain/case.ts';
import { rateLimitWaitingHttpClient } from '@stripe-dunning/stripe-sandbox';
import { createStripeClient } from '#shared/adapters/stripe-gateway.ts';
import type { Policy } from '#shared/policy/schema.ts';
import { choosePolicy, type InvoicePlan, type PolicySet } from '#shared/policy/segments.ts';
import type { Print } from './timeline.ts';

export interface DemoCustomer {
  name: string;
  email: string;
  /** The stage (a notice, or a retry in a policy without notices) after which this customer puts in a working card, or never. */
  fixesAfter?: string;
}

/**
 * Who the demo's customers are under `policy`: Ada fixes her card after its first notice, Grace
 * after its last, Alan never. Read from the policy, so every notice a policy has is seen, and a
 * policy of two notices still shows a recovery at its last one. Pure.
 */
export function demoCustomers(policy: Policy): DemoCustomer[] {
  const notices = policy.stages.filter((s) => s.type === 'notice');
  // A policy may have no notice stage at all: then the customers act after its retries.
  const steps = notices.length > 0 ? notices : policy.stages;
  return [
    { name: 'Ada Lovelace', email: 'ada@example.com', fixesAfter: steps[0]?.id },
    { name: 'Grace Hopper', email: 'grace@example.com', fixesAfter: steps[steps.length - 1]?.id },
    { name: 'Alan Turing', email: 'alan@example.com' },
  ];
}

/** What the router knows of a renewal on the demo's price: the plan its segments are matched against. */
export function demoPlan(price: { id: string; product: string }): InvoicePlan {
  return { priceIds: [price.id], productIds: [price.product], intervals: ['month'], subscriptionMetadata: {}, priceMetadata: {} };
}

export interface DemoOptions {
  apiKey: string;
  apiBase?: string;
  store: CaseStore;
  print: Print;
  /** The runtime's policy file: the demo's customers follow the policy its plan is routed to. */
  policies: PolicySet;
  /** Who plays, instead of demoCustomers of the routed policy. */
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
  // The demo plays the merchant setting up customers, faster than Stripe's test-mode 25 requests a
  // second: it waits out a 429 from the rate limiter (the sandbox's, or Stripe test mode's).
  const stripe = createStripeClient({ apiKey: options.apiKey, apiBase: options.apiBase, httpClient: rateLimitWaitingHttpClient() });
  const { print, store } = options;

  const product = await stripe.products.create({ name: 'Acme Pro' });
  const price = await stripe.prices.create({ product: product.id, unit_amount: 1500, currency: 'gbp', recurring: { interval: 'month' } });
  // The cases will run the policy the router chooses for this plan, so the customers follow that one.
  const policyName = choosePolicy(options.policies, demoPlan({ id: price.id, product: product.id }));
  const policy = options.policies.policies[policyName]!;
  const customers = options.customers ?? demoCustomers(policy);
  const noticeIds = new Set(policy.stages.filter((s) => s.type === 'notice').map((s) => s.id));
  // A notice has passed once it is claimed; a retry (in a policy without notices), once it has run.
  const passed = (c: DunningCase, stageId: string) => c.noticesSent.includes(stageId) || (!noticeIds.has(stageId) && c.stage === stageId);

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
  const plans = customers.map((c, i) => `${c.name.split(' ')[0]}${i === 0 ? ' fixes their card' : ''} ${c.fixesAfter ? `after ${c.fixesAfter}` : 'never'}`);
  print(`demo: under policy "${policyName}", ${plans.join(', ')}`);

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
      if (fixesAfter && !fixed.has(s.customerId) && passed(dunningCase, fixesAfter)) {
        fixed.add(s.customerId);
        const card = await stripe.paymentMethods.attach('pm_card_visa', { customer: s.customerId });
        await stripe.customers.update(s.customerId, { invoice_settings: { default_payment_method: card.id } });
        print(`demo: ${s.customer.name} updates their card after ${fixesAfter} (Visa •••• ${card.card?.last4 ?? '4242'})`);
      }
      // Ended, and its customer told: the demo's summary and the inbox then agree.
      if (dunningCase.status !== 'open' && (await toldOfTheEnd(store, dunningCase))) {
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

/**
 * Whether an ended case's closing email (the thank-you, the ending) has gone out or been recorded
 * as undeliverable: the case's status changes a moment before it is sent.
 */
async function toldOfTheEnd(store: CaseStore, dunningCase: DunningCase): Promise<boolean> {
  const stage = dunningCase.status === 'recovered' ? 'Recovered' : dunningCase.status === 'terminated' ? 'Terminate' : undefined;
  if (!stage) return true;
  const entries = await store.listTimeline(dunningCase.invoiceId);
  return entries.some((e) => e.stage === stage && (e.type === 'notice_sent' || e.type === 'notice_undeliverable'));
}

async function caseOf(store: CaseStore, subscriptionId: string): Promise<DunningCase | undefined> {
  const cases = await store.listCases();
  return cases.find((c) => c.subscriptionId === subscriptionId);
}

export type { Stripe };
