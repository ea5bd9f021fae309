// Builds card `payment_method` objects for Stripe's test tokens (pm_card_visa → a fresh pm_…).
import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import type { TestCard } from '../cards.ts';
import { fixture } from '../fixtures.ts';
import { newId } from '../ids.ts';

export function buildCardPaymentMethod(card: TestCard, created: number): Stripe.PaymentMethod {
  const pm = fixture<Stripe.PaymentMethod>('payment_method');
  const now = new Date();
  pm.id = newId('pm');
  pm.allow_redisplay = 'unspecified';
  pm.billing_details = {
    address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
    email: null,
    name: null,
    phone: null,
    tax_id: null,
  };
  pm.card = {
    brand: card.brand,
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: null },
    country: 'US',
    display_brand: card.brand === 'amex' ? 'american_express' : card.brand,
    // Test tokens expire a year out, so they are always valid when the sandbox starts.
    exp_month: now.getUTCMonth() + 1,
    exp_year: now.getUTCFullYear() + 1,
    // Same number, same fingerprint: Stripe's way to spot a card saved twice.
    fingerprint: createHash('sha256').update(card.number).digest('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 16),
    funding: card.funding,
    generated_from: null,
    last4: card.number.slice(-4),
    networks: { available: [card.brand === 'amex' ? 'amex' : card.brand], preferred: null },
    regulated_status: 'unregulated',
    three_d_secure_usage: { supported: true },
    wallet: null,
  };
  pm.created = created;
  pm.customer = null;
  pm.livemode = false;
  pm.metadata = {};
  pm.type = 'card';
  return pm;
}
