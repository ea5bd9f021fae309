// English: the reference catalog. Every other locale must have every message and placeholder here.
import type { Catalog } from './catalog-shape.ts';

export const en = {
  language: 'en',
  greeting: { named: 'Hi {customerName},', anonymous: 'Hi there,' },
  nameFallback: 'there',
  messages: {
    payment_failed: {
      subject: "We haven't been able to take payment",
      heading: "We haven't been able to take payment",
      body: [
        "We tried to take your {productName} subscription payment of {amount}, but it didn't go through.",
        "To keep your subscription, please update your payment details via [My Account]({myAccountUrl}) or by clicking update payment details below. We'll try the payment again in a few days.",
      ],
      action: 'Update payment details',
      banner: {
        headline: "We haven't been able to take payment",
        body: 'You must update your payment details via My Account or by clicking update payment details to keep your subscription.',
      },
    },
    act_now: {
      subject: 'Act now to keep your subscription',
      heading: 'Act now to keep your subscription',
      body: [
        "We've tried to contact you several times as we haven't been able to take payment of {amount} for your {productName} subscription.",
        'Please update your payment details via [My Account]({myAccountUrl}) or by clicking update payment details below to keep your subscription.',
      ],
      action: 'Update payment details',
      banner: {
        headline: 'Act now to keep your subscription',
        body: "We've tried to contact you several times as we haven't been able to take payment. You must update your payment details via My Account or by clicking update payment details to keep your subscription.",
      },
    },
    due_to_terminate: {
      subject: 'Your subscription is due to terminate',
      heading: 'Your subscription is due to terminate',
      body: [
        "We still haven't been able to take payment of {amount} for your {productName} subscription.",
        'Please update your payment details via [My Account]({myAccountUrl}) or by clicking update payment details below, otherwise your subscription will terminate on {terminatesOn}.',
      ],
      action: 'Update payment details',
      banner: {
        headline: 'Your subscription is due to terminate',
        body: "We've tried to contact you several times as we haven't been able to take payment. You must update your payment details via My Account, otherwise your subscription will terminate.",
      },
    },
    terminated: {
      subject: 'Your subscription has ended',
      heading: 'Your subscription has ended',
      body: [
        "We weren't able to take payment of {amount}, so your {productName} subscription ended on {terminatesOn}.",
        'You can start a new subscription at any time from [My Account]({myAccountUrl}).',
      ],
    },
    recovered: {
      subject: 'Thank you: your payment went through',
      heading: 'Your payment went through',
      body: [
        'Thank you. Your payment of {amount} went through and your {productName} subscription continues as normal.',
        "There's nothing more you need to do.",
      ],
    },
    action_required: {
      subject: 'Action required: confirm your payment',
      heading: 'Your bank needs you to confirm this payment',
      body: [
        "Your bank has asked you to confirm your {productName} subscription payment of {amount} before it can go through. We can't do this step for you.",
        'Please confirm the payment on the invoice page using the button below. It only takes a moment, and your subscription carries on as normal.',
      ],
      action: 'Confirm payment',
      banner: {
        headline: 'Your bank needs you to confirm this payment',
        body: 'Your bank needs you to confirm your payment of {amount}. Confirm it to keep your subscription.',
      },
    },
    card_expiring: {
      subject: 'Your card expires before your next payment',
      heading: 'Your card is about to expire',
      body: [
        'The card we have on file for your {productName} subscription expires before your next payment of {amount} is due.',
        'To keep your subscription running without interruption, please update your payment details via [My Account]({myAccountUrl}) or by clicking update payment details below.',
      ],
      action: 'Update payment details',
      banner: {
        headline: 'Your card is about to expire',
        body: 'Your card expires before your next payment of {amount}. Update your payment details to keep your subscription.',
      },
    },
  },
  layout: {
    buttonHelp: "If the button doesn't work, copy this link into your browser:",
    about: "You're receiving this email about your {productName} subscription.",
    manage: 'Manage your subscription in [My Account]({myAccountUrl}).',
    support: 'Questions? Email us at {supportEmail}.',
    colon: ':',
  },
} satisfies Catalog;
