import { describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { signedWebhook, stripeEvent } from '../fixtures/stripe/webhook.ts';
import { stripeFixture } from '../fixtures/stripe.ts';

describe('stripe webhook test fixtures', () => {
  it('builds events that stripe.webhooks.constructEvent verifies', () => {
    const invoice = stripeFixture('invoice');
    const event = stripeEvent('invoice.payment_failed', invoice);
    const { body, headers } = signedWebhook(event, 'whsec_test');
    const verified = new Stripe('sk_test_x').webhooks.constructEvent(body, headers['stripe-signature']!, 'whsec_test');
    expect(verified.type).toBe('invoice.payment_failed');
    expect(verified.api_version).toBe(Stripe.API_VERSION);
    expect((verified.data.object as Stripe.Invoice).object).toBe('invoice');
  });
});
