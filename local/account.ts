// The local My Account page (`GET /account`), so every "My Account" link the product hands a
// customer (each email's footer, the "Go to My Account" button on the /u/ pages, the billing
// portal's return) leads somewhere on `npm start`. It is examples/banner's integration, served by
// the runtime: banner.js and banner.css as they are, and a backend route (`/account/notice`) that
// asks the banner API's function with the credentials only a server holds.
//
// DEMO SHORTCUT, as in examples/banner/site.ts: the customer is `?customer=cus_…`, or picked from the
// customers that have a case. A real account page knows its customer from the signed-in session.
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { APIGatewayProxyStructuredResultV2 as FunctionUrlResponse } from 'aws-lambda';
import type { DunningCase } from '#shared/domain/case.ts';
import type { CaseQueries } from '#shared/domain/ports.ts';

export const ACCOUNT_PATH = '/account';
export const ACCOUNT_NOTICE_PATH = `${ACCOUNT_PATH}/notice`;

const CUSTOMER_ID = /^cus_[A-Za-z0-9]+$/;
const EXAMPLE = new URL('../examples/banner/', import.meta.url);
const ASSETS: Record<string, { file: string; type: string }> = {
  [`${ACCOUNT_PATH}/banner.js`]: { file: 'banner.js', type: 'text/javascript' },
  [`${ACCOUNT_PATH}/banner.css`]: { file: 'banner.css', type: 'text/css' },
};

export interface AccountDeps {
  /** Who has a case, for the picker. */
  store: Pick<CaseQueries, 'listCases'>;
  /** The banner API's answer for this customer: the get-notice function, as `GET /customers/{id}/notice`. */
  notice(customerId: string): Promise<FunctionUrlResponse>;
}

export function isAccountPath(pathname: string): boolean {
  return pathname === ACCOUNT_PATH || pathname.startsWith(`${ACCOUNT_PATH}/`);
}

export async function serveAccount(url: URL, res: ServerResponse, deps: AccountDeps): Promise<void> {
  const asset = ASSETS[url.pathname];
  if (asset) {
    res.writeHead(200, { 'content-type': `${asset.type}; charset=utf-8`, 'cache-control': 'no-store' });
    res.end(readFileSync(new URL(asset.file, EXAMPLE)));
    return;
  }
  const customer = url.searchParams.get('customer') ?? '';
  if (url.pathname === ACCOUNT_NOTICE_PATH) return forwardNotice(res, deps, customer);
  if (url.pathname !== ACCOUNT_PATH && url.pathname !== `${ACCOUNT_PATH}/`) {
    return void res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`no page ${url.pathname}`);
  }
  const cases = await deps.store.listCases();
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // banner.js from this origin, and its fetch of /account/notice; nothing else runs.
    'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'",
  });
  res.end(CUSTOMER_ID.test(customer) ? accountPage(customer, cases) : pickerPage(cases));
}

/**
 * What a merchant's backend does for banner.js: ask the banner API for the signed-in customer and
 * pass on its 200 JSON or its 204. Anything else is said, not hidden: the banner shows nothing then.
 */
async function forwardNotice(res: ServerResponse, deps: AccountDeps, customer: string): Promise<void> {
  if (!CUSTOMER_ID.test(customer)) return void res.writeHead(204, { 'cache-control': 'no-store' }).end();
  const answer = await deps.notice(customer);
  const status = answer.statusCode ?? 200;
  if (status === 200 || status === 204) {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(status === 200 ? (answer.body ?? '') : '');
    return;
  }
  console.error(`My Account: the banner API answered ${status} for ${customer}: ${answer.body ?? ''}`);
  res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `the banner API answered ${status}` }));
}

function accountPage(customerId: string, cases: DunningCase[]): string {
  const name = cases.find((c) => c.customerId === customerId && c.customerName)?.customerName;
  const endpoint = `${ACCOUNT_NOTICE_PATH}?customer=${encodeURIComponent(customerId)}`;
  return layout(
    'My Account',
    `<p class="who">${name ? `${escapeHtml(name)} · ` : ''}<code>${escapeHtml(customerId)}</code> · <a href="${ACCOUNT_PATH}">another customer</a></p>
<div id="banner" data-dunning-banner data-endpoint="${escapeHtml(endpoint)}"></div>
<p class="note" id="no-banner">No banner: nothing is owed (the banner API answered 204 for this customer).</p>
<p class="note" id="banner-failed">The banner could not be loaded: the runtime's output says why.</p>
<p class="note">The banner is the banner API's answer (<code>GET /customers/${escapeHtml(customerId)}/notice</code>), drawn by
<code>examples/banner/banner.js</code>. Its button is the signed update-payment link (<code>/u/…</code>) the API returns: it opens the
Stripe billing portal, which returns here.</p>
<!-- Access (what this customer may use now) goes here, under the banner, once the access API exists. -->
<script src="${ACCOUNT_PATH}/banner.js" defer></script>`,
  );
}

function pickerPage(cases: DunningCase[]): string {
  const customers = new Map<string, DunningCase>();
  for (const c of [...cases].sort((a, b) => b.createdAt.localeCompare(a.createdAt))) if (!customers.has(c.customerId)) customers.set(c.customerId, c);
  const rows = [...customers.values()].map(
    (c) =>
      `<li><a href="${ACCOUNT_PATH}?customer=${encodeURIComponent(c.customerId)}">${escapeHtml(c.customerName ?? c.customerId)}</a> <code>${escapeHtml(c.customerId)}</code> <span class="note">latest case ${escapeHtml(c.status)}</span></li>`,
  );
  return layout(
    'My Account',
    `<p>Locally, this page stands in for your product's own My Account page. Pick the customer you are signed in as:</p>
${rows.length ? `<ul id="customers">${rows.join('\n')}</ul>` : '<p class="note" id="customers">No customers yet: a failed renewal opens a case (the demo of <code>npm start</code> makes three).</p>'}`,
  );
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} (local)</title>
<link rel="stylesheet" href="${ACCOUNT_PATH}/banner.css">
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;margin:24px;color:#1a1f36;max-width:760px}
.note{color:#697386;font-size:14px}
#no-banner,#banner-failed{display:none}
#banner[data-state="empty"] ~ #no-banner,#banner[data-state="error"] ~ #banner-failed{display:block}
</style></head><body>
<h1>${escapeHtml(title)} <small class="note">(local)</small></h1>
${body}
</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
