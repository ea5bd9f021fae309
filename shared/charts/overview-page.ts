// The recovery overview as a page: one renderer with two hosts. The local console (local/console-page.ts)
// puts OVERVIEW_MARKUP on its page and calls the script on every poll; `dunning report --html`
// writes `overviewFile`, which carries Chart.js and the data inside, so it opens with no network.
// The browser code is a string (it runs in the page, not here); it draws with Chart.js on linear
// time axes of epoch milliseconds, labelled through Intl.DateTimeFormat, so no date adapter is needed.
// Every word from the data goes in with textContent or as a chart label, never as markup.
import type { RecoveryOverview } from '../dunning/overview.ts';
import { chartJsSource } from './chart-js.ts';

export const OVERVIEW_STYLE = `
  .overview .stats { margin: 0 0 .75rem; color: #1d2430; }
  .overview .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; margin-bottom: 1.5rem; }
  .overview figure, .case-chart { margin: 0; background: #fff; border: 1px solid #d9dde3; border-radius: 8px; padding: .75rem; }
  .overview figcaption, .case-chart h2 { font-weight: 600; font-size: .95rem; margin: 0 0 .5rem; }
  .overview .note { color: #5b6472; font-size: .8rem; margin: .25rem 0 0; }
  .chart { position: relative; height: 260px; }
`;

export const OVERVIEW_MARKUP = `
<section id="overview" class="overview">
  <p class="stats"><span id="overview-rate"></span> · <span id="overview-revenue"></span> · <span id="overview-open"></span></p>
  <div class="charts">
    <figure><figcaption>Recovery funnel</figcaption><div class="chart"><canvas id="chart-funnel" role="img" aria-label="Recovery funnel"></canvas></div>
      <p class="note">Recovered cases count at the last notice they got (at Opened: paid before the first notice).</p></figure>
    <figure><figcaption>Recovery rate and recovered revenue by day</figcaption><div class="chart"><canvas id="chart-daily" role="img" aria-label="Recovery rate and recovered revenue by day"></canvas></div>
      <p class="note" id="daily-note"></p></figure>
    <figure><figcaption>Open cases by stage</figcaption><div class="chart"><canvas id="chart-open" role="img" aria-label="Open cases by stage"></canvas></div></figure>
  </div>
</section>
`;

/**
 * Defines `window.dunningCharts`: `renderOverview(overview)` and `renderCaseTimeline(canvas, points)`
 * draw or update the charts, which stay in `dunningCharts.charts` (the browser tests read them).
 * Needs `window.Chart` (Chart.js's UMD build) loaded first.
 */
export const OVERVIEW_SCRIPT = String.raw`
(() => {
  const DAY = 86400000;
  const charts = {};
  const colour = { reached: '#1e6fd9', recovered: '#2e9d57', terminated: '#c62828', open: '#d99a00', wait: '#8a94a3', other: '#b5bcc6' };
  const outcomeColour = { sent: '#1e6fd9', undeliverable: '#d99a00', paid: '#2e9d57', declined: '#c62828', skipped: '#8a94a3', recovered: '#2e9d57', terminated: '#c62828', closed: '#5b6472' };
  const currencyColours = ['#1e6fd9', '#8e44ad', '#16a085', '#d35400'];
  const dayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const money = (amount, currency, exponent) => new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount / Math.pow(10, exponent));
  const text = (id, value) => { const node = document.getElementById(id); if (node) node.textContent = value; };

  // One chart per canvas: a poll replaces its data and options, and nothing is redrawn from scratch.
  function draw(name, canvas, config) {
    config.options.animation = false;
    const chart = charts[name];
    if (chart && chart.canvas === canvas) {
      chart.data = config.data;
      chart.options = config.options;
      chart.update('none');
      return chart;
    }
    if (chart) chart.destroy();
    charts[name] = new Chart(canvas, config);
    return charts[name];
  }

  /** Linear time ticks that read as days, hours or seconds, whichever the span needs. */
  function timeTicks(min, max, utcDays) {
    const span = max - min;
    const format = utcDays ? dayFormat
      : span < 2 * 60000 ? new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
      : span < 2 * DAY ? new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
      : new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
    return { maxTicksLimit: 8, maxRotation: 0, callback: (value) => format.format(new Date(value)) };
  }

  function renderOverview(o) {
    const steps = o.funnel.steps;
    const exponents = o.currencyExponents;
    draw('funnel', document.getElementById('chart-funnel'), {
      type: 'bar',
      data: {
        labels: [...steps.map((s) => s.step === 'opened' ? 'Opened' : 'Reached ' + s.step), 'Terminated'],
        datasets: [
          { label: 'cases', data: [...steps.map((s) => s.reached), o.funnel.terminated],
            backgroundColor: [...steps.map(() => colour.reached), colour.terminated] },
          { label: 'recovered here', data: [...steps.map((s) => s.recovered), null], backgroundColor: colour.recovered },
        ],
      },
      options: { indexAxis: 'y', responsive: true, maintainAspectRatio: false, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });

    // Each day's values at its UTC noon, between its midnights, with a tick (and its date) under it.
    const days = o.daily.map((d) => Date.parse(d.day + 'T12:00:00Z'));
    const today = Math.floor(Date.now() / DAY) * DAY + DAY / 2;
    const min = (days.length ? days[0] : today) - DAY / 2;
    const max = (days.length ? days[days.length - 1] : today) + DAY / 2;
    const every = Math.max(1, Math.ceil((max - min) / DAY / 8));
    const dayTicks = [];
    for (let t = min + DAY / 2; t < max; t += every * DAY) dayTicks.push({ value: t });
    const currencies = Object.keys(exponents).filter((c) => o.daily.some((d) => d.recoveredRevenue.some((r) => r.currency === c)));
    draw('daily', document.getElementById('chart-daily'), {
      type: 'bar',
      data: {
        datasets: [
          // order 0: drawn over the bars.
          { type: 'line', label: 'recovery rate %', yAxisID: 'rate', clip: 6, order: 0, pointRadius: 5, borderColor: colour.recovered, backgroundColor: colour.recovered,
            data: o.daily.map((d, i) => ({ x: days[i], y: Math.round(d.recoveryRate * 1000) / 10 })) },
          ...currencies.map((c, k) => ({
            type: 'bar', label: 'recovered ' + c, yAxisID: 'revenue', maxBarThickness: 40, order: 1,
            backgroundColor: currencyColours[k % currencyColours.length],
            data: o.daily.map((d, i) => ({ x: days[i], y: (d.recoveredRevenue.find((r) => r.currency === c)?.amount ?? 0) / Math.pow(10, exponents[c]) })),
          })),
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false,
        scales: {
          x: { type: 'linear', min, max, ticks: timeTicks(min, max, true), afterBuildTicks: (scale) => { scale.ticks = dayTicks; } },
          rate: { type: 'linear', position: 'right', min: 0, max: 100, title: { display: true, text: 'recovery rate %' }, grid: { drawOnChartArea: false } },
          revenue: { type: 'linear', position: 'left', beginAtZero: true, title: { display: true, text: 'recovered (major units)' } },
        },
      },
    });
    text('daily-note', o.daily.length ? 'By the UTC day each case ended.' : 'No case has recovered or terminated yet.');

    const open = o.openCases.byStage;
    draw('open', document.getElementById('chart-open'), {
      type: 'bar',
      data: { labels: open.map((s) => s.stage), datasets: [{ label: 'open cases', data: open.map((s) => s.cases), backgroundColor: colour.open }] },
      options: { responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });

    const r = o.report;
    text('overview-rate', 'Recovery rate: ' + (r.recoveryRate === undefined ? 'n/a (no case has ended)' : (100 * r.recoveryRate).toFixed(1) + '%'));
    text('overview-revenue', 'Recovered: ' + (r.recoveredRevenue.length ? r.recoveredRevenue.map((x) => money(x.amount, x.currency, exponents[x.currency] ?? 2)).join(', ') : 'nothing yet'));
    text('overview-open', 'Open now: ' + o.openCases.total + (o.openCases.paused ? ' (' + o.openCases.paused + ' paused)' : ''));
  }

  const LANES = ['end', 'retry', 'notice', 'wait', 'other'];
  function renderCaseTimeline(canvas, points) {
    const lane = (kind) => LANES.length - 1 - LANES.indexOf(kind);
    const point = (p) => ({ x: Date.parse(p.at), y: lane(p.kind), label: p.label, outcome: p.outcome });
    const of = (kind) => points.filter((p) => p.kind === kind);
    const times = points.flatMap((p) => p.until ? [Date.parse(p.at), Date.parse(p.until)] : [Date.parse(p.at)]);
    const first = times.length ? Math.min(...times) : Date.now();
    const last = times.length ? Math.max(...times) : Date.now();
    const pad = Math.max((last - first) * 0.04, 1000);
    const markers = (kind, label, style, radius, fixed) => ({
      type: 'scatter', label, pointStyle: style, pointRadius: radius, pointHoverRadius: radius + 2,
      data: of(kind).map(point),
      pointBackgroundColor: of(kind).map((p) => fixed || outcomeColour[p.outcome] || colour.other),
      borderColor: fixed || '#1d2430', borderWidth: 1,
    });
    draw('timeline', canvas, {
      type: 'scatter',
      data: {
        datasets: [
          markers('notice', 'notices', 'triangle', 8),
          markers('retry', 'retries', 'circle', 7),
          markers('end', 'end', 'rectRot', 10),
          markers('other', 'other entries', 'circle', 3, colour.other),
          ...of('wait').map((w) => ({
            type: 'line', label: 'waits', borderColor: colour.wait, borderDash: [6, 4], borderWidth: 2, pointRadius: 2, showLine: true,
            data: [point(w), { ...point(w), x: Date.parse(w.until) }],
          })),
        ],
      },
      options: {
        responsive: true, maintainAspectRatio: false,
        plugins: {
          legend: { labels: { filter: (item, data) => data.datasets.findIndex((d) => d.label === item.text) === item.datasetIndex } },
          tooltip: { callbacks: { label: (ctx) => ctx.raw.label + (ctx.raw.outcome ? ' (' + ctx.raw.outcome + ')' : '') } },
        },
        scales: {
          x: { type: 'linear', min: first - pad, max: last + pad, ticks: timeTicks(first - pad, last + pad, false) },
          y: { type: 'linear', min: -0.5, max: LANES.length - 0.5, ticks: { callback: (v) => LANES[LANES.length - 1 - v] ?? '' },
            afterBuildTicks: (scale) => { scale.ticks = LANES.map((_, i) => ({ value: i })); } },
        },
      },
    });
  }

  window.dunningCharts = { charts, renderOverview, renderCaseTimeline };
})();
`;

/** JSON to put inside a <script> element: `<` escaped, so no string in it can close the element. */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export interface OverviewFileHeading {
  /** What the file is about, e.g. `stack Dunning (eu-west-1)`: shown as text. */
  target: string;
  /** The cases it covers, e.g. `cases opened since 2026-03-01T00:00:00.000Z`. */
  scope: string;
}

/**
 * The overview as one self-contained HTML file: Chart.js and the data inlined, no request made
 * (its own Content-Security-Policy allows none), so it can be mailed or opened from disk.
 */
export function overviewFile(overview: RecoveryOverview, heading: OverviewFileHeading): string {
  // The library's source as it is, but never able to end its <script> element early.
  const library = chartJsSource().replace(/<\/script/gi, '<\\/script');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>Dunning recovery report</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2430; background: #f6f7f9; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  .meta { color: #5b6472; margin-bottom: 1rem; }
${OVERVIEW_STYLE}
</style>
</head>
<body>
<h1>Dunning recovery report</h1>
<p class="meta"><span id="report-target"></span> · <span id="report-scope"></span> · generated <span id="report-generated"></span></p>
${OVERVIEW_MARKUP}
<script>${library}</script>
<script type="application/json" id="overview-data">${inlineJson({ overview, heading })}</script>
<script>${OVERVIEW_SCRIPT}</script>
<script>
(() => {
  const { overview, heading } = JSON.parse(document.getElementById('overview-data').textContent);
  document.getElementById('report-target').textContent = heading.target;
  document.getElementById('report-scope').textContent = heading.scope;
  document.getElementById('report-generated').textContent = new Date(overview.generatedAt).toLocaleString();
  window.dunningCharts.renderOverview(overview);
})();
</script>
</body>
</html>
`;
}
