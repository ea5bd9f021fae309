// Pre-dunning: before a renewal that would fail because the card on file expires first, one
// heads-up (email and My Account banner) asks for a new card. Stripe's `invoice.upcoming` (or the
// legacy `customer.source.expiring`) triggers it; `payment_method.automatically_updated` (Stripe's
// card account updater renewed the card) cancels it, clearing the banner if it already went.
import * as z from '../zod.ts';
import { PRE_DUNNING_STAGE, type DunningCase } from '../domain/case.ts';
import { EmailRejectedError, InvalidInputError } from '../domain/errors.ts';
import type { Banners, CaseQueries, Customers, HeadsUps, RenewalCard, Subscriptions, Suppressions } from '../domain/ports.ts';
import { bannerOf } from './banner.ts';
import { renderNotice } from '../notices/render.ts';
import type { Policy } from '../policy/schema.ts';
import { choosePolicy, hasSegments } from '../policy/segments.ts';
import { policyNamed, type Uses } from './deps.ts';
import type { StripeEventEnvelope } from './invoice-event.ts';
import { describeSuppression, suppressionOf } from './suppression.ts';

export { PRE_DUNNING_STAGE };

export type PreDunningResult =
  | { action: 'heads_up_sent'; customerId: string; subscriptionId: string; notice: 'sent' | 'undeliverable' }
  | { action: 'heads_up_cancelled'; customerId: string; cardId: string; wasSent: boolean; bannerCleared: boolean }
  | { action: 'ignored'; reason: string };

const idOrObject = z.union([z.string(), z.pipe(z.object({ id: z.string() }), z.transform((o) => o.id))]);

/** The parts of Stripe's upcoming invoice (a preview: no id) the heads-up reads. */
const UpcomingInvoiceSchema = z.object({
  object: z.literal('invoice'),
  customer: idOrObject,
  customer_email: z.nullish(z.string()),
  customer_name: z.nullish(z.string()),
  collection_method: z.string(),
  amount_due: z.int(),
  currency: z.string(),
  livemode: z.boolean(),
  next_payment_attempt: z.nullish(z.int()),
  period_end: z.int(),
  parent: z.nullish(z.object({ subscription_details: z.nullish(z.object({ subscription: z.nullable(idOrObject) })) })),
  subscription: z.nullish(idOrObject),
});

/** A legacy card source (`card_…`), as `customer.source.expiring` sends it. */
const ExpiringCardSchema = z.object({
  id: z.string(),
  object: z.literal('card'),
  customer: idOrObject,
  exp_month: z.int().check(z.minimum(1), z.maximum(12)),
  exp_year: z.int(),
});

const UpdatedPaymentMethodSchema = z.object({
  id: z.string(),
  customer: z.nullable(idOrObject),
  card: z.nullish(z.object({ exp_month: z.int().check(z.minimum(1), z.maximum(12)), exp_year: z.int() })),
});

function parse<T>(schema: z.ZodMiniType<T>, event: StripeEventEnvelope, what: string): T {
  const result = schema.safeParse(event.data.object);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  throw new InvalidInputError(`event ${event.id}: data.object is not ${what} (${first?.path.join('.') || 'object'}: ${first?.message})`);
}

/** A card is good through the last day of its expiry month (UTC). */
export function cardExpiresBefore(card: Pick<RenewalCard, 'expMonth' | 'expYear'>, unixSeconds: number): boolean {
  const firstInvalidDay = Date.UTC(card.expYear, card.expMonth, 1) / 1000; // month is 1-based: this is the next month
  return firstInvalidDay <= unixSeconds;
}

const expiryKey = (card: Pick<RenewalCard, 'expMonth' | 'expYear'>) => `${card.expYear}-${String(card.expMonth).padStart(2, '0')}`;

/** What headsUpForUpcomingInvoice touches. */
export type HeadsUpForUpcomingInvoiceDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'log' | 'metrics', CaseQueries & Banners & Suppressions & HeadsUps, Subscriptions & Customers>;

/** `invoice.upcoming`: the renewal is days away; warn if the card it will charge expires first. */
export async function headsUpForUpcomingInvoice(deps: HeadsUpForUpcomingInvoiceDeps, event: StripeEventEnvelope): Promise<PreDunningResult> {
  const invoice = parse(UpcomingInvoiceSchema, event, 'an upcoming invoice');
  const subscriptionId = invoice.parent?.subscription_details?.subscription ?? invoice.subscription ?? undefined;
  if (!subscriptionId) return ignore(deps, event, 'the upcoming invoice has no subscription');
  if (invoice.collection_method !== 'charge_automatically') return ignore(deps, event, 'the renewal is not charged to a card');
  if (invoice.amount_due <= 0) return ignore(deps, event, 'nothing will be charged at the renewal');
  if (!anyPreDunning(deps)) return ignore(deps, event, 'pre-dunning is off in the policy');

  // The card as Stripe holds it now, not as the event saw it: it may have been replaced since.
  const card = await deps.stripe.getRenewalCard(invoice.customer, subscriptionId);
  if (!card) return ignore(deps, event, 'the renewal has no card to charge');
  return sendHeadsUp(deps, event, {
    customerId: invoice.customer,
    subscriptionId,
    renewsAt: invoice.next_payment_attempt ?? invoice.period_end,
    amount: { amount: invoice.amount_due, currency: invoice.currency },
    card,
    email: invoice.customer_email ?? undefined,
    name: invoice.customer_name ?? undefined,
    livemode: invoice.livemode,
  });
}

/** What headsUpForExpiringSource touches. */
export type HeadsUpForExpiringSourceDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'log' | 'metrics', CaseQueries & Banners & Suppressions & HeadsUps, Subscriptions & Customers>;

/**
 * Legacy `customer.source.expiring`: a card source expires at the end of the month. Each renewal it
 * would pay after that gets the heads-up, if the source is still what the renewal charges.
 */
export async function headsUpForExpiringSource(deps: HeadsUpForExpiringSourceDeps, event: StripeEventEnvelope): Promise<PreDunningResult> {
  const source = parse(ExpiringCardSchema, event, 'a card source');
  if (!anyPreDunning(deps)) return ignore(deps, event, 'pre-dunning is off in the policy');
  const card: RenewalCard = { id: source.id, expMonth: source.exp_month, expYear: source.exp_year };
  let result: PreDunningResult = { action: 'ignored', reason: 'no renewal is paid with this card after it expires' };
  for (const renewal of await deps.stripe.listRenewals(source.customer)) {
    if ((await deps.stripe.getRenewalCard(source.customer, renewal.subscriptionId))?.id !== card.id) continue;
    result = await sendHeadsUp(deps, event, { customerId: source.customer, ...renewal, card, livemode: event.livemode });
  }
  if (result.action === 'ignored') return ignore(deps, event, result.reason);
  return result;
}

/**
 * `payment_method.automatically_updated`: the bank reissued the card and Stripe updated it in place.
 * A heads-up not sent yet will not go (its claim is refused for the old expiry); one that went has
 * its banner cleared, and the record keeps when the card was updated.
 */
export async function cancelHeadsUp(deps: Uses<'clock' | 'log' | 'metrics', Banners & HeadsUps>, event: StripeEventEnvelope): Promise<PreDunningResult> {
  const method = parse(UpdatedPaymentMethodSchema, event, 'a payment method');
  if (!method.customer) return ignore(deps, event, 'the payment method belongs to no customer');
  if (!method.card) return ignore(deps, event, 'not a card');
  const now = deps.clock.now().toISOString();
  const before = await deps.store.cancelHeadsUp(method.customer, method.id, expiryKey({ expMonth: method.card.exp_month, expYear: method.card.exp_year }), now);
  const wasSent = (before?.claims.length ?? 0) > 0;
  let bannerCleared = false;
  if (wasSent && before?.bannerId) {
    const banner = await deps.store.getBanner(method.customer);
    if (banner?.invoiceId === before.bannerId) {
      await deps.store.clearBanner(method.customer, before.bannerId);
      bannerCleared = true;
    }
  }
  if (wasSent) deps.metrics.count('PreDunningCancelled');
  deps.log.info('card updated automatically; pre-dunning heads-up cancelled', {
    stripeEventId: event.id,
    customerId: method.customer,
    paymentMethod: method.id,
    wasSent,
    bannerCleared,
  });
  return { action: 'heads_up_cancelled', customerId: method.customer, cardId: method.id, wasSent, bannerCleared };
}

interface HeadsUp {
  customerId: string;
  subscriptionId: string;
  /** Unix seconds. */
  renewsAt: number;
  amount: { amount: number; currency: string };
  card: RenewalCard;
  email?: string;
  name?: string;
  livemode: boolean;
}

/** Whether any policy of the file sends the heads-up: if none does, Stripe need not be asked. */
function anyPreDunning(deps: Uses<'policy' | 'policies'>): boolean {
  return Object.values(deps.policies?.policies ?? { default: deps.policy }).some((policy) => policy.preDunning.enabled);
}

/**
 * The policy the subscription's failed renewal would run (its segment, as the router would choose
 * it): its brand, wording and pre-dunning setting are the heads-up's too.
 */
async function policyOfSubscription(deps: Uses<'policy' | 'policies', never, Subscriptions>, subscriptionId: string): Promise<Policy> {
  if (!deps.policies || !hasSegments(deps.policies)) return deps.policy;
  return policyNamed(deps, choosePolicy(deps.policies, await deps.stripe.getSubscriptionPlan(subscriptionId)));
}

/** What sendHeadsUp touches. */
type SendHeadsUpDeps = Uses<'policy' | 'policies' | 'mailer' | 'links' | 'clock' | 'log' | 'metrics', CaseQueries & Banners & Suppressions & HeadsUps, Subscriptions & Customers>;

async function sendHeadsUp(deps: SendHeadsUpDeps, event: StripeEventEnvelope, headsUp: HeadsUp): Promise<PreDunningResult> {
  const { customerId, subscriptionId, card } = headsUp;
  if (!cardExpiresBefore(card, headsUp.renewsAt)) return ignore(deps, event, 'the card is still valid at the renewal');
  const policy = await policyOfSubscription(deps, subscriptionId);
  if (!policy.preDunning.enabled) return ignore(deps, event, 'pre-dunning is off in the policy of this subscription');
  // A customer already being dunned gets the dunning notices, not a second voice.
  const cases = await deps.store.listCasesOfCustomer(customerId);
  if (cases.some((c) => c.status === 'open')) return ignore(deps, event, 'the customer has an open case');

  const contact = headsUp.email ? { email: headsUp.email, name: headsUp.name, locale: undefined } : await deps.stripe.getCustomerContact(customerId);
  const locale = contact?.locale ?? (await deps.stripe.getCustomerPreferences(customerId)).locale;
  // Our own short link, never a portal session (those expire in minutes): it opens a fresh session
  // at the click, and lives until the renewal. Made before the claim, so a failure leaves nothing to give back.
  const updatePaymentUrl = await deps.links.headsUpUrl({ customerId, subscriptionId, renewsAt: headsUp.renewsAt });

  const now = deps.clock.now().toISOString();
  const claim = `${subscriptionId}@${headsUp.renewsAt}`;
  const claimed = await deps.store.claimHeadsUp(customerId, card.id, claim, expiryKey(card), now);
  if (claimed === 'already_claimed') return ignore(deps, event, 'the heads-up for this renewal and card was already sent');
  if (claimed === 'card_updated') return ignore(deps, event, 'Stripe has updated the card since; no heads-up is due');

  const renewsOn = new Date(headsUp.renewsAt * 1000).toISOString();
  const rendered = renderNotice(policy.preDunning.notice, {
    policy,
    dunningCase: headsUpContext(headsUp, contact, locale, renewsOn, now),
    updatePaymentUrl,
  });
  const bannerId = `upcoming_${subscriptionId}`;
  if (rendered.banner) {
    // No case yet: the banner's "by when" (terminatesAt) is the renewal the card cannot pay.
    const banner = bannerOf(policy, { customerId, invoiceId: bannerId, terminatesAt: renewsOn }, PRE_DUNNING_STAGE, rendered, updatePaymentUrl, now);
    await deps.store.putBanner({ ...banner!, expiresAt: renewsOn });
    await deps.store.setHeadsUpBanner(customerId, card.id, bannerId);
  }

  const log = { stripeEventId: event.id, customerId, subscriptionId, stage: PRE_DUNNING_STAGE };
  const undeliverable = (reason: string): PreDunningResult => {
    deps.log.warn('pre-dunning heads-up undeliverable', { ...log, reason });
    deps.metrics.count('NoticeUndeliverable');
    return { action: 'heads_up_sent', customerId, subscriptionId, notice: 'undeliverable' };
  };
  if (!contact?.email) return undeliverable('the customer has no email address in Stripe');
  const suppression = await suppressionOf(deps, contact.email);
  if (suppression) return undeliverable(describeSuppression(suppression));
  // The card account updater may have run while this was being prepared: then say nothing.
  const latest = await deps.store.getHeadsUp(customerId, card.id);
  if (latest?.updatedExpiry && latest.updatedExpiry > expiryKey(card)) {
    if (rendered.banner) await deps.store.clearBanner(customerId, bannerId);
    return ignore(deps, event, 'Stripe updated the card while the heads-up was prepared');
  }
  try {
    await deps.mailer.send({
      to: contact.email,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      tags: { stage: PRE_DUNNING_STAGE, customer: customerId },
    });
  } catch (error) {
    if (error instanceof EmailRejectedError) return undeliverable(error.message);
    // Not taken by SES: give the claim back, so Stripe's redelivery sends it.
    await deps.store.releaseHeadsUp(customerId, card.id, claim);
    throw error;
  }
  deps.metrics.count('PreDunningSent');
  deps.log.info('pre-dunning heads-up sent', log);
  return { action: 'heads_up_sent', customerId, subscriptionId, notice: 'sent' };
}

/**
 * The notice renderer reads a case; before a failure there is none, so this is the renewal seen as
 * one: what is due, who is due it, and when (the renewal date stands in for the case dates).
 */
function headsUpContext(
  headsUp: HeadsUp,
  contact: { email?: string; name?: string } | undefined,
  locale: string | undefined,
  renewsOn: string,
  now: string,
): DunningCase {
  return {
    invoiceId: `upcoming_${headsUp.subscriptionId}`,
    customerId: headsUp.customerId,
    subscriptionId: headsUp.subscriptionId,
    status: 'open',
    amountDue: headsUp.amount,
    customerEmail: contact?.email,
    customerName: contact?.name,
    customerLocale: locale,
    livemode: headsUp.livemode,
    failedAt: renewsOn,
    terminatesAt: renewsOn,
    executionName: '',
    noticesSent: [],
    createdAt: now,
    updatedAt: now,
  };
}

function ignore(deps: Uses<'log' | 'metrics'>, event: StripeEventEnvelope, reason: string): PreDunningResult {
  deps.log.info('event ignored', { stripeEventId: event.id, type: event.type, reason });
  deps.metrics.count('EventIgnored');
  return { action: 'ignored', reason };
}
