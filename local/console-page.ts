// The console's page (local/console.ts serves it): the recovery overview's charts on top (drawn by
// the renderer `dunning report --html` shares, shared/charts/overview-page.ts), then every case with
// its timeline; `?case=in_…` shows one case with its timeline drawn on a time axis. All text is put
// in with textContent: names and subjects come from Stripe and are never markup.
import { OVERVIEW_MARKUP, OVERVIEW_SCRIPT, OVERVIEW_STYLE } from '#shared/charts/overview-page.ts';

/** The page, for the console served at `path` (its data at `path`/data, Chart.js under `path`/assets). */
export function consolePage(path: string): string {
  return `<!doctype html>
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
  .case h2 a { font-size: .8rem; font-weight: normal; }
  #case-view { margin-bottom: 1rem; }
${OVERVIEW_STYLE}
</style>
<script src="${path}/assets/chart.js"></script>
<script>${OVERVIEW_SCRIPT}</script>
</head>
<body>
<h1>Dunning console <small>(local)</small></h1>
<div class="meta"><span id="summary">Loading…</span> · <a id="inbox" href="#">SES inbox</a> · updated <span id="updated">never</span></div>
<div class="meta" id="open-by-stage"></div>
${OVERVIEW_MARKUP}
<section id="case-view" class="case-chart" hidden>
  <h2>Timeline of <code id="case-view-id"></code> · <a id="case-view-back" href="${path}">all cases</a></h2>
  <div class="chart"><canvas id="chart-timeline" role="img" aria-label="The case's timeline"></canvas></div>
  <p class="meta" id="case-view-note"></p>
</section>
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
  // /console?case=in_…: that case alone, its timeline drawn on a time axis above its table.
  const focus = new URLSearchParams(location.search).get('case');
  if (focus) {
    document.getElementById('overview').hidden = true;
    document.getElementById('case-view').hidden = false;
    document.getElementById('case-view-id').textContent = focus;
  }
  function render(data) {
    const open = data.openCases.total;
    document.getElementById('summary').textContent = data.cases.length + ' case(s), ' + open + ' open';
    const waiting = data.openCases.byStage.filter((s) => s.cases > 0).map((s) => s.stage + ' ' + s.cases);
    document.getElementById('open-by-stage').textContent = waiting.length ? 'Open now by stage: ' + waiting.join(' · ') : '';
    const inbox = document.getElementById('inbox');
    if (/^https?:\\/\\//.test(data.sesInbox)) inbox.href = data.sesInbox;
    document.getElementById('updated').textContent = time(data.generatedAt);
    const root = document.getElementById('cases');
    if (focus) {
      const row = data.cases.find((r) => r.case.invoiceId === focus);
      document.getElementById('case-view-note').textContent = row ? '' : 'No case for ' + focus + ' (yet).';
      if (row) dunningCharts.renderCaseTimeline(document.getElementById('chart-timeline'), row.series);
      root.replaceChildren(...(row ? [renderCase(row)] : []));
      return;
    }
    dunningCharts.renderOverview(data.overview);
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
        c.recoveredBy ? el('span', {}, 'by ' + c.recoveredBy) : null,
        focus ? null : el('a', { href: location.origin + '${path}?case=' + encodeURIComponent(c.invoiceId), 'data-timeline': c.invoiceId }, 'timeline chart')),
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
      const res = await fetch('${path}/data', { cache: 'no-store' });
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
}
