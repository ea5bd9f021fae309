// The customer-facing pages Stripe hosts, served by the sandbox: the hosted invoice page (pay
// with a test card), the billing portal's "update payment method" page, invoice PDFs, receipts.
import type Stripe from 'stripe';
import { attemptInvoicePayment } from './billing/payments.ts';
import { change } from './billing/state.ts';
import { TEST_CARDS, testCard } from './cards.ts';
import type { Core } from './core.ts';
import { newId } from './ids.ts';
import { idOf } from './lookup.ts';
import { formatAmount } from './objects/invoice.ts';
import { attach, createFromToken } from './wallet.ts';
import { OPENED_PORTAL_SESSION_TTL_MS } from './handlers/billingPortal.ts';

export interface PageReply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(status: number, title: string, body: string): PageReply {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;background:#e3e8ee;font-size:.85rem}
.paid{background:#d7f7c2}.open{background:#fce5a6}.void,.uncollectible{background:#ffd5d5}
form.cards button{display:block;width:100%;text-align:left;margin:.4rem 0;padding:.6rem;border:1px solid #c1c9d2;border-radius:.4rem;background:#fff;cursor:pointer}
form.cards small{display:block;color:#697386}.msg{padding:.6rem;border-radius:.4rem;background:#e3e8ee}
.sandbox{color:#697386;font-size:.8rem;margin-top:2rem}
</style></head><body>
${body}
<p class="sandbox">Stripe sandbox — test mode, no real money moves.</p>
</body></html>`;
  return { status, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: html };
}

function cardButtons(tokens: readonly string[]): string {
  return TEST_CARDS.filter((c) => tokens.includes(c.token))
    .map(
      (c) =>
        `<button type="submit" name="card" value="${escapeHtml(c.token)}">${escapeHtml(c.label)} (${c.number.slice(-4)})<small>${escapeHtml(c.behaviour)}</small></button>`,
    )
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Hosted invoice page

function invoicePage(core: Core, inv: Stripe.Invoice, message?: string): PageReply {
  const customer = core.store.get('customer', idOf(inv.customer as string)!);
  const payable = inv.status === 'open' || inv.status === 'uncollectible';
  const lines = inv.lines.data
    .map((l) => `<li>${escapeHtml(l.description ?? '')} — ${escapeHtml(formatAmount(l.amount, inv.currency))}</li>`)
    .join('');
  const body = `
<h1>Invoice ${escapeHtml(inv.number ?? inv.id)}</h1>
<p><strong id="amount">${escapeHtml(formatAmount(payable ? inv.amount_remaining : inv.amount_due, inv.currency))}</strong>
 <span class="badge ${escapeHtml(inv.status ?? '')}" id="status">${escapeHtml(inv.status ?? '')}</span></p>
<p>Billed to ${escapeHtml(inv.customer_name ?? inv.customer_email ?? (customer?.id ?? ''))}</p>
<ul>${lines}</ul>
${message ? `<p class="msg" id="message">${escapeHtml(message)}</p>` : ''}
${
  payable
    ? `<form class="cards" method="post" action="/i/${escapeHtml(inv.id)}/pay">
<button type="submit" name="card" value="pm_card_visa">Pay with Visa (4242)<small>The charge succeeds.</small></button>
<button type="submit" name="card" value="pm_card_chargeCustomerFail">Pay with a declining card<small>Visa ending 0341: the charge is declined (generic_decline).</small></button>
</form>`
    : inv.status === 'paid'
      ? '<p>This invoice has been paid. Thank you!</p>'
      : `<p>This invoice is ${escapeHtml(inv.status ?? '')} and can no longer be paid.</p>`
}`;
  return page(200, `Invoice ${inv.number ?? inv.id}`, body);
}

function payFromHostedPage(core: Core, inv: Stripe.Invoice, token: string | undefined): string {
  if (inv.status !== 'open' && inv.status !== 'uncollectible') return `This invoice is ${inv.status} and can no longer be paid.`;
  const card = token ? testCard(token) : undefined;
  const customer = core.store.get('customer', idOf(inv.customer as string)!);
  if (!card || !customer || core.store.isDeletedCustomer(customer.id)) return 'Choose one of the test cards.';
  // Paying on the hosted page saves the card to the customer, then charges it once.
  const pm = createFromToken(core, card.token, core.nowForCustomer(customer.id))!;
  attach(core, pm, customer);
  // The hosted page pays through Stripe's API from the customer's browser: its events name a
  // request, with no idempotency key of ours.
  const before = core.request;
  core.request = { id: newId('req'), idempotencyKey: null };
  let result: ReturnType<typeof attemptInvoicePayment>;
  try {
    result = attemptInvoicePayment(core, inv, pm.id, 'manual');
  } finally {
    core.request = before;
  }
  return result.ok ? 'Payment successful.' : (result.decline?.message ?? 'Your card was declined.');
}

// ---------------------------------------------------------------------------------------------
// Billing portal

function portalPage(core: Core, session: Stripe.BillingPortal.Session, expired: boolean, message?: string): PageReply {
  const back = session.return_url ? `<p><a href="${escapeHtml(session.return_url)}">Return</a></p>` : '';
  if (expired) {
    return page(
      410,
      'Session expired',
      `<h1>This session has expired</h1><p>Billing portal links are valid for 5 minutes until opened. Ask for a new link.</p>${back}`,
    );
  }
  const customer = core.store.get('customer', session.customer);
  const current = customer ? core.store.get('payment_method', idOf(customer.invoice_settings.default_payment_method) ?? '') : undefined;
  const body = `
<h1>Update your payment method</h1>
<p>${escapeHtml(customer?.email ?? customer?.name ?? session.customer)}</p>
<p id="current">${current?.card ? `Current: ${escapeHtml(current.card.brand)} ending ${escapeHtml(current.card.last4)}` : 'No default payment method.'}</p>
${message ? `<p class="msg" id="message">${escapeHtml(message)}</p>` : ''}
<form class="cards" method="post" action="/p/session/${escapeHtml(session.id)}">
${cardButtons(TEST_CARDS.map((c) => c.token))}
</form>${back}`;
  return page(200, 'Update your payment method', body);
}

function updateFromPortal(core: Core, session: Stripe.BillingPortal.Session, token: string | undefined): PageReply {
  const card = token ? testCard(token) : undefined;
  const customer = core.store.get('customer', session.customer);
  if (!customer || core.store.isDeletedCustomer(customer.id)) return page(404, 'Not found', '<h1>This customer no longer exists</h1>');
  if (!card) return portalPage(core, session, false, 'Choose one of the test cards.');
  const pm = createFromToken(core, card.token, core.nowForCustomer(customer.id))!;
  attach(core, pm, customer);
  change(core, 'customer.updated', customer, (c) => {
    c.invoice_settings.default_payment_method = pm.id;
  });
  // The portal also moves subscriptions that name their own default card onto the new one.
  for (const sub of core.store.where('subscription', 'customer', customer.id)) {
    if (sub.default_payment_method === null) continue;
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') continue;
    change(core, 'customer.subscription.updated', sub, (s) => {
      s.default_payment_method = pm.id;
    });
  }
  const target = session.flow?.after_completion.redirect?.return_url ?? session.return_url;
  if (target) return { status: 303, headers: { Location: target, 'Content-Type': 'text/plain; charset=utf-8' }, body: `See ${target}` };
  const custom = session.flow?.after_completion.hosted_confirmation?.custom_message;
  return page(200, 'Payment method updated', `<h1>Payment method updated</h1><p id="message">${escapeHtml(custom ?? `${card.label} saved as your default payment method.`)}</p>`);
}

// ---------------------------------------------------------------------------------------------
// Documents

function pdfText(s: string): string {
  return s
    .replace(/×/g, 'x')
    .replace(/€/g, 'EUR ')
    .replace(/£/g, 'GBP ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/[\\()]/g, (c) => `\\${c}`);
}

/** A one-page PDF listing the invoice: enough for links in emails to open something real. */
function invoicePdf(inv: Stripe.Invoice): Buffer {
  const rows = [
    `Invoice ${inv.number ?? inv.id}`,
    `Status: ${inv.status}`,
    `Billed to: ${inv.customer_name ?? inv.customer_email ?? ''}`,
    ...inv.lines.data.map((l) => `${l.description ?? ''}  ${formatAmount(l.amount, inv.currency)}`),
    `Amount due: ${formatAmount(inv.amount_due, inv.currency)}`,
  ];
  const content = ['BT', '/F1 12 Tf', '72 720 Td', '16 TL', ...rows.map((r) => `(${pdfText(r)}) '`), 'ET'].join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(content)} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function receiptPage(charge: Stripe.Charge): PageReply {
  return page(
    200,
    'Receipt',
    `<h1>Receipt</h1><p>${escapeHtml(formatAmount(charge.amount, charge.currency))} paid with ${escapeHtml(
      charge.payment_method_details?.card?.brand ?? 'card',
    )} ending ${escapeHtml(charge.payment_method_details?.card?.last4 ?? '')}</p>`,
  );
}

const notFound = (): PageReply => page(404, 'Not found', '<h1>Not found</h1>');

/** Serves a page for `/i/…`, `/p/…` and `/receipts/…`, or undefined for other paths. */
export function handlePage(core: Core, method: string, path: string, form: URLSearchParams): PageReply | undefined {
  let m = /^\/i\/([^/]+)(\/pay|\/pdf)?\/?$/.exec(path);
  if (m) {
    const inv = core.store.get('invoice', decodeURIComponent(m[1]!));
    // Drafts have no hosted page yet, exactly like their null hosted_invoice_url.
    if (!inv || inv.status === 'draft') return notFound();
    if (m[2] === '/pdf' && method === 'GET') {
      return { status: 200, headers: { 'Content-Type': 'application/pdf' }, body: invoicePdf(inv) };
    }
    if (m[2] === '/pay' && method === 'POST') return invoicePage(core, inv, payFromHostedPage(core, inv, form.get('card') ?? undefined));
    if (!m[2] && method === 'GET') return invoicePage(core, inv);
    return notFound();
  }
  m = /^\/p\/session\/([^/]+)\/?$/.exec(path);
  if (m) {
    const session = core.store.get('portal_session', decodeURIComponent(m[1]!));
    if (!session) return notFound();
    const expired = Date.now() > (core.store.state.portalExpiresAtMs[session.id] ?? 0);
    if (!expired) {
      // Visiting the URL keeps the session alive (the five minutes only bound an unopened link).
      core.store.state.portalExpiresAtMs[session.id] = Date.now() + OPENED_PORTAL_SESSION_TTL_MS;
      core.store.scheduleSave();
    }
    if (method === 'GET') return portalPage(core, session, expired);
    if (method === 'POST') return expired ? portalPage(core, session, true) : updateFromPortal(core, session, form.get('card') ?? undefined);
    return notFound();
  }
  m = /^\/receipts\/([^/]+)\/?$/.exec(path);
  if (m && method === 'GET') {
    const charge = core.store.get('charge', decodeURIComponent(m[1]!));
    return charge ? receiptPage(charge) : notFound();
  }
  return undefined;
}
