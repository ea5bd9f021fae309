// The local console (`GET /console`): every case with its timeline, the customer's current My
// Account banner and a link to each email as the customer sees it (local/console-email.ts). The page polls `GET /console/data`, so
// it follows the demo as it plays. All text is put in with textContent: names and subjects come
// from Stripe and are never markup.
import type { ServerResponse } from 'node:http';
import type { Banner, DunningCase, TimelineEntry } from '#shared/domain/case.ts';
import type { Banners, CaseQueries, Timeline } from '#shared/domain/ports.ts';
import { countOpenCases, type OpenCasesCount } from '#shared/dunning/open-cases.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import { formatMoney } from '#shared/domain/format.ts';
import { consoleEmailPath, serveConsoleEmail } from './console-email.ts';

/** What the console reads: the cases, their banners and their timelines. */
type ConsoleStore = Pick<CaseQueries, 'listCases' | 'listOpenCases'> & Pick<Banners, 'getBanner'> & Pick<Timeline, 'listTimeline'>;

export const CONSOLE_PATH = '/console';

export interface ConsoleCase {
  case: DunningCase;
  /** The amount due as an operator reads it (Stripe's decimal places for the currency). */
  amount: string;
  timeline: TimelineEntry[];
  /** The customer's banner as My Account would show it now; null when none. */
  banner: Banner | null;
  /** `url` opens the email as the customer sees it (its HTML part, with a link to its text part). */
  emails: Array<{ stage?: string; subject?: string; messageId: string; at: string; url: string }>;
  /** The events published for this case on the event bus (the local EventBridge), oldest first. */
  events: Array<{ detailType: string; time: string; eventId: string; summary: string }>;
}

/** The events the local event bus received, for the console's case pages. */
export type ConsoleEvents = () => Array<{ detailType: string; detail: Record<string, unknown>; time: string }>;

export interface ConsoleData {
  generatedAt: string;
  sesInbox: string;
  cases: ConsoleCase[];
  /** What the OpenCases gauge would emit now: the open cases at each stage. */
  openCases: OpenCasesCount;
}

/** `origin` is the runtime's own, which serves each email's page. */
export async function consoleData(store: ConsoleStore, sesInbox: string, policies: PolicySet, origin: string, events: ConsoleEvents = () => []): Promise<ConsoleData> {
  const now = new Date();
  const published = events();
  const openCases = countOpenCases(policies, await store.listOpenCases(), now);
  const cases = (await store.listCases()).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const banners = new Map<string, Banner | null>();
  const rows: ConsoleCase[] = [];
  for (const c of cases) {
    if (!banners.has(c.customerId)) banners.set(c.customerId, (await store.getBanner(c.customerId)) ?? null);
    const timeline = await store.listTimeline(c.invoiceId);
    rows.push({
      case: c,
      amount: formatMoney(c.amountDue, 'en-GB'),
      timeline,
      banner: banners.get(c.customerId) ?? null,
      emails: timeline
        .filter((e) => e.type === 'notice_sent' && e.messageId)
        .map((e) => ({ stage: e.stage, subject: e.detail, messageId: e.messageId!, at: e.at, url: `${origin}${consoleEmailPath(e.messageId!)}` })),
      events: published
        .filter((e) => e.detail.invoiceId === c.invoiceId)
        .map((e) => ({ detailType: e.detailType, time: e.time, eventId: String(e.detail.eventId ?? ''), summary: summaryOf(e.detail) })),
    });
  }
  return { generatedAt: now.toISOString(), sesInbox, cases: rows, openCases };
}

export async function serveConsole(
  url: URL,
  res: ServerResponse,
  deps: { store: ConsoleStore; sesInbox: string; policies: PolicySet; origin: string; events?: ConsoleEvents },
): Promise<void> {
  if (await serveConsoleEmail(url.pathname, res, deps.sesInbox)) return;
  if (url.pathname === `${CONSOLE_PATH}/data`) {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(await consoleData(deps.store, deps.sesInbox, deps.policies, deps.origin, deps.events)));
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The page's own script only; it talks to this origin alone.
    'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
  });
  res.end(PAGE);
}

/** What an event says beyond its type, in a few words: its stage and its own fields. */
function summaryOf(detail: Record<string, unknown>): string {
  const keys = ['stage', 'outcome', 'declineClass', 'reason', 'access', 'recoveredBy', 'endAction', 'errorName'];
  return keys.filter((k) => detail[k] !== null && detail[k] !== undefined).map((k) => `${k}: ${String(detail[k])}`).join(', ');
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dunning console (local)</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2430; background: #f6f7f9; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  .meta { color: #5b6472; margin-bottom: 1rem; }
  .case { background: #fff; border: 1px solid #d9dde3; border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
  .case h2 { font-size: 1.05rem; margin: 0 0 .5rem; display: flex; gap: .75rem; align-items: baseline; flex-wrap: wrap; }
  .status { font-size: .8rem; padding: .1rem .5rem; border-radius: 999px; background: #e5e8ec; }
  .status.open { background: #fff1c2; } .status.recovered { background: #c9f0d3; }
  .status.terminated, .status.needs_attention { background: #f8cdd0; } .status.closed { background: #dde3ea; }
  .banner { border-left: 4px solid #8a94a3; background: #f3f5f8; padding: .4rem .6rem; margin: .5rem 0; }
  .banner.warning { border-color: #d99a00; } .banner.critical { border-color: #c62828; } .banner.info { border-color: #1e6fd9; }
  table { border-collapse: collapse; width: 100%; font-size: .85rem; }
  td, th { text-align: left; padding: .2rem .5rem .2rem 0; vertical-align: top; border-top: 1px solid #eef0f3; }
  th { color: #5b6472; font-weight: 600; }
  .empty { color: #5b6472; }
</style>
</head>
<body>
<h1>Dunning console <small>(local)</small></h1>
<div class="meta"><span id="summary">Loading…</span> · <a id="inbox" href="#">SES inbox</a> · updated <span id="updated">never</span></div>
<div class="meta" id="open-by-stage"></div>
<div id="cases"></div>
<script>
(() => {
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else if (k === 'href') { if (/^https?:\\/\\//.test(v)) node.setAttribute('href', v); }
      else node.setAttribute(k, v);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };
  const time = (iso) => new Date(iso).toLocaleTimeString();
  function render(data) {
    const open = data.openCases.total;
    document.getElementById('summary').textContent = data.cases.length + ' case(s), ' + open + ' open';
    const waiting = data.openCases.byStage.filter((s) => s.cases > 0).map((s) => s.stage + ' ' + s.cases);
    document.getElementById('open-by-stage').textContent = waiting.length ? 'Open now by stage: ' + waiting.join(' · ') : '';
    const inbox = document.getElementById('inbox');
    if (/^https?:\\/\\//.test(data.sesInbox)) inbox.href = data.sesInbox;
    document.getElementById('updated').textContent = time(data.generatedAt);
    const root = document.getElementById('cases');
    root.replaceChildren(...(data.cases.length ? data.cases.map(renderCase) : [el('p', { class: 'empty' }, 'No cases yet: a failed renewal opens one.')]));
  }
  function renderCase(row) {
    const c = row.case;
    const paused = c.status === 'open' && c.pausedUntil && Date.parse(c.pausedUntil) > Date.now();
    const emails = new Map(row.emails.map((e) => [e.messageId, e]));
    return el('section', { class: 'case', 'data-invoice': c.invoiceId, 'data-status': c.status },
      el('h2', {},
        el('span', {}, c.customerName || c.customerId),
        el('code', {}, c.invoiceId),
        el('span', { class: 'status ' + c.status }, c.status + (paused ? ' (paused)' : '')),
        el('span', {}, row.amount),
        c.stage ? el('span', {}, 'stage ' + c.stage) : null,
        c.recoveredBy ? el('span', {}, 'by ' + c.recoveredBy) : null),
      row.banner
        ? el('div', { class: 'banner ' + row.banner.severity, 'data-banner': row.banner.stage },
            el('strong', {}, 'My Account banner: ' + row.banner.headline), el('br'), row.banner.body)
        : el('div', { class: 'banner', 'data-banner': '' }, 'My Account banner: none'),
      c.nextRetry && (c.status === 'open' || c.status === 'needs_attention')
        ? el('p', { class: 'next-retry', 'data-next-retry': c.nextRetry.stage },
            c.nextRetry.at
              ? 'Next retry: ' + c.nextRetry.stage + ' at ' + c.nextRetry.at.replace('T', ' ').replace(/:00\.000Z$/, 'Z') + ' (policy time): ' + c.nextRetry.reason
              : 'Next retry: ' + c.nextRetry.stage + ' skipped: ' + c.nextRetry.reason)
        : null,
      el('table', {},
        el('thead', {}, el('tr', {}, el('th', {}, 'at'), el('th', {}, 'what'), el('th', {}, 'stage'), el('th', {}, 'detail'))),
        el('tbody', {}, ...row.timeline.map((e) => {
          const email = e.messageId && emails.get(e.messageId);
          return el('tr', { 'data-type': e.type },
            el('td', {}, time(e.at)), el('td', {}, e.type), el('td', {}, e.stage || ''),
            el('td', {}, e.detail || '', e.eventId ? ' (' + e.eventId + ')' : '',
              email ? el('span', {}, ' · ', el('a', { href: email.url, 'data-email': e.messageId }, 'email')) : null));
        }))),
      row.events.length
        ? el('details', { class: 'events' },
            el('summary', {}, 'Events published (' + row.events.length + ')'),
            el('ul', {}, ...row.events.map((e) => el('li', { 'data-event': e.detailType }, time(e.time) + ' ' + e.detailType + (e.summary ? ' (' + e.summary + ')' : '')))))
        : null);
  }
  async function poll() {
    try {
      const res = await fetch('${CONSOLE_PATH}/data', { cache: 'no-store' });
      if (res.ok) render(await res.json());
    } catch {}
    setTimeout(poll, 1000);
  }
  poll();
})();
</script>
</body>
</html>
`;
