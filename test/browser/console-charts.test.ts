// The console's charts in real Chromium: the overview (the funnel, the recovery rate and recovered
// revenue by day, the open cases by stage) follows cases to their ends as the page polls, a case's
// page draws its timeline on a time axis, and `dunning report --html` writes the same overview as
// one file that renders from file:// with every network request refused. The screenshots of the
// overview and of a case's page are the README's (docs/screenshots/console-*.png).
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { caseTimelineSeries, recoveryOverview } from '#shared/dunning/overview.ts';
import {
  caseFor,
  closedCase,
  putInWorkingCard,
  renew,
  startTestRuntime,
  subscribeWithDecliningCard,
  waitFor,
  type TestRuntime,
} from '../fixtures/scenario.ts';
import { describeInChromium, launchChromium, SCREENSHOTS } from '../fixtures/browser.ts';

const BIN = fileURLToPath(new URL('../../bin/dunning.mjs', import.meta.url));

let t: TestRuntime;
let browser: Browser;
let page: Page;
beforeAll(async () => {
  [t, browser] = await Promise.all([startTestRuntime({ dayMs: 300 }), launchChromium()]);
  page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

interface ChartData {
  labels?: string[];
  datasets: Array<{ label: string; data: Array<number | null | { x: number; y: number; label?: string; outcome?: string }>; pointBackgroundColor?: string[] }>;
}

/** A chart's data as Chart.js holds it, read from the page's `dunningCharts`. */
const chartData = (target: Page, name: string) =>
  target.evaluate<ChartData | null>(`(() => { const c = window.dunningCharts && window.dunningCharts.charts[${JSON.stringify(name)}]; return c ? JSON.parse(JSON.stringify(c.data)) : null; })()`);

/** How many pixels of a canvas have been drawn on: a chart that did not render has none. */
const inkedPixels = (target: Page, canvasId: string) =>
  target.evaluate<number>(`(() => {
    const canvas = document.getElementById(${JSON.stringify(canvasId)});
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked += 1;
    return inked;
  })()`);

const funnelOf = (data: ChartData | null) => ({ labels: data?.labels, cases: data?.datasets[0]?.data, recovered: data?.datasets[1]?.data });

function dunning(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describeInChromium("the console's charts", () => {
  let recoveredId = '';

  it('draws the funnel, the endings by day and the open cases by stage, and follows the cases as they end', async () => {
    await page.goto(t.runtime.urls.console);
    await expect.poll(async () => funnelOf(await chartData(page, 'funnel')).cases).toEqual([0, 0, 0, 0, 0]);

    // Three customers: one pays after the first retry declines, one pays at once, one never pays.
    const [rita, quinn, terry] = await Promise.all([
      subscribeWithDecliningCard(t.stripe, 'Rita Retried'),
      subscribeWithDecliningCard(t.stripe, 'Quinn Quick'),
      subscribeWithDecliningCard(t.stripe, 'Terry Terminated'),
    ]);
    await Promise.all([renew(t.stripe, rita), renew(t.stripe, quinn), renew(t.stripe, terry)]);
    const ritaCase = await waitFor(() => caseFor(t.runtime, rita.subscriptionId), 10_000, "Rita's case");
    await waitFor(() => caseFor(t.runtime, quinn.subscriptionId), 10_000, "Quinn's case");
    await putInWorkingCard(t.stripe, quinn.customerId);
    await waitFor(async () => (await t.runtime.store.listTimeline(ritaCase.invoiceId)).some((e) => e.type === 'retry_declined'), 15_000, "Rita's declined retry");
    await putInWorkingCard(t.stripe, rita.customerId);
    const ended = await Promise.all([closedCase(t.runtime, rita.subscriptionId), closedCase(t.runtime, quinn.subscriptionId), closedCase(t.runtime, terry.subscriptionId)]);
    expect(ended.map((c) => c.status)).toEqual(['recovered', 'recovered', 'terminated']);
    recoveredId = ritaCase.invoiceId;

    // The page catches up by itself, without a reload. (Where each recovered case paid, at Opened or
    // at a notice, depends on how the stages and the card updates interleave: the store says.)
    const expected = recoveryOverview(t.runtime.policies, await t.runtime.store.listCases(), new Date());
    await expect
      .poll(async () => funnelOf(await chartData(page, 'funnel')), { timeout: 10_000 })
      .toEqual({
        labels: ['Opened', 'Reached Notice1', 'Reached Notice2', 'Reached Notice3', 'Terminated'],
        cases: [...expected.funnel.steps.map((s) => s.reached), 1],
        recovered: [...expected.funnel.steps.map((s) => s.recovered), null],
      });
    const funnel = funnelOf(await chartData(page, 'funnel'));
    expect(funnel.cases?.[0]).toBe(3);
    expect(funnel.recovered?.reduce<number>((sum, n) => sum + (typeof n === 'number' ? n : 0), 0)).toBe(2);

    // Both payments and the termination ended today (UTC): one day, two thirds recovered, £30.
    const daily = await chartData(page, 'daily');
    expect(daily?.datasets.map((d) => d.label)).toEqual(['recovery rate %', 'recovered GBP']);
    expect(daily?.datasets[0]?.data).toEqual(expected.daily.map((d) => ({ x: Date.parse(`${d.day}T12:00:00Z`), y: Math.round(d.recoveryRate * 1000) / 10 })));
    expect(daily?.datasets[0]?.data).toHaveLength(1);
    expect(daily?.datasets[0]?.data[0]).toMatchObject({ y: 66.7 });
    expect(daily?.datasets[1]?.data[0]).toMatchObject({ y: 30 });

    const open = await chartData(page, 'open');
    expect(open?.labels).toEqual(expected.openCases.byStage.map((s) => s.stage));
    expect(open?.datasets[0]?.data).toEqual(expected.openCases.byStage.map(() => 0));

    expect(await page.textContent('#overview-rate')).toBe('Recovery rate: 66.7%');
    for (const canvas of ['chart-funnel', 'chart-daily', 'chart-open']) expect(await inkedPixels(page, canvas), canvas).toBeGreaterThan(1000);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-overview.png') });
  });

  it("draws a case's timeline on a time axis: its notices, its retries coloured by outcome, the waits and the end", async () => {
    await page.click(`a[data-timeline="${recoveredId}"]`);
    await page.waitForURL(`${t.runtime.urls.console}?case=${recoveredId}`);
    await expect.poll(() => chartData(page, 'timeline').then((d) => d?.datasets.length ?? 0)).toBeGreaterThan(4);
    const series = caseTimelineSeries(await t.runtime.store.listTimeline(recoveredId));
    const timeline = (await chartData(page, 'timeline'))!;
    const points = (label: string) => timeline.datasets.filter((d) => d.label === label).flatMap((d) => d.data) as Array<{ x: number; label: string; outcome?: string }>;

    expect(points('notices').map((p) => [p.x, p.label])).toEqual(series.filter((p) => p.kind === 'notice').map((p) => [Date.parse(p.at), p.label]));
    expect(points('notices').map((p) => p.label)).toEqual(expect.arrayContaining([expect.stringMatching(/^Notice1: /)]));
    const retries = timeline.datasets.find((d) => d.label === 'retries')!;
    const declined = (retries.data as Array<{ outcome?: string }>).findIndex((p) => p.outcome === 'declined');
    expect(declined).toBeGreaterThanOrEqual(0);
    expect(retries.pointBackgroundColor?.[declined]).toBe('#c62828');
    expect(points('end')).toEqual([expect.objectContaining({ outcome: 'recovered' })]);
    // Each wait is drawn from its start to its end.
    const waits = series.filter((p) => p.kind === 'wait');
    expect(waits.length).toBeGreaterThan(0);
    expect(points('waits').map((p) => p.x)).toEqual(waits.flatMap((w) => [Date.parse(w.at), Date.parse(w.until!)]));

    // The lanes are named on the y axis, the end on top.
    expect(await page.evaluate<string[]>(`window.dunningCharts.charts.timeline.scales.y.ticks.map((t) => t.label)`)).toEqual(['other', 'wait', 'notice', 'retry', 'end']);
    expect(await page.isVisible('#overview')).toBe(false);
    expect(await page.locator('section.case').count()).toBe(1);
    expect(await inkedPixels(page, 'chart-timeline')).toBeGreaterThan(1000);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-case.png') });
  });

  it('report --html writes the same overview as one file that renders offline from file://', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'dunning-report-')), 'recovery.html');

    const run = await dunning(['--local', t.runtime.urls.app, 'report', '--html', file]);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(new RegExp(`^wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the recovery overview of local ${t.runtime.urls.app} \\(3 cases opened ever: .*\\), one file with Chart\\.js and the data inside; open it in a browser, offline\\n$`));
    const offline = await browser.newPage({ viewport: { width: 1200, height: 600 } });
    const requested: string[] = [];
    await offline.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      requested.push(url);
      return route.abort();
    });
    await offline.goto(pathToFileURL(file).href);
    await expect.poll(async () => funnelOf(await chartData(offline, 'funnel')).cases?.[0]).toBe(3);

    // The same numbers as the console's funnel (the cases have all ended: nothing moves any more).
    const expected = recoveryOverview(t.runtime.policies, await t.runtime.store.listCases(), new Date());
    expect(funnelOf(await chartData(offline, 'funnel'))).toEqual({
      labels: ['Opened', 'Reached Notice1', 'Reached Notice2', 'Reached Notice3', 'Terminated'],
      cases: [...expected.funnel.steps.map((s) => s.reached), 1],
      recovered: [...expected.funnel.steps.map((s) => s.recovered), null],
    });
    expect(await offline.textContent('#report-target')).toBe(`local ${t.runtime.urls.app}`);
    expect(await offline.textContent('#overview-rate')).toBe('Recovery rate: 66.7%');
    for (const canvas of ['chart-funnel', 'chart-daily', 'chart-open']) expect(await inkedPixels(offline, canvas), canvas).toBeGreaterThan(1000);
    expect(requested).toEqual([]);
    await offline.screenshot({ path: join(SCREENSHOTS, 'report-html.png') });
    await offline.close();
  });
});
