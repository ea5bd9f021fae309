// The local console (`GET /console`): the recovery overview's charts, then every case with its
// timeline, the customer's current My Account banner and a link to each email as the customer sees
// it (local/console-email.ts). The page (local/console-page.ts) polls `GET /console/data`, so it
// follows the demo as it plays; Chart.js comes from node_modules at `GET /console/assets/chart.js`.
import type { ServerResponse } from 'node:http';
import type { Banner, DunningCase, TimelineEntry } from '#shared/domain/case.ts';
import type { Banners, CaseQueries, Timeline } from '#shared/domain/ports.ts';
import { countOpenCases, type OpenCasesCount } from '#shared/dunning/open-cases.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import { formatMoney } from '#shared/domain/format.ts';
import { caseTimelineSeries, recoveryOverview, type RecoveryOverview, type TimelinePoint } from '#shared/dunning/overview.ts';
import { chartJsSource } from '#shared/charts/chart-js.ts';
import { consoleEmailPath, serveConsoleEmail } from './console-email.ts';
import { consolePage } from './console-page.ts';

/** What the console reads: the cases, their banners and their timelines. */
type ConsoleStore = Pick<CaseQueries, 'listCases' | 'listOpenCases'> & Pick<Banners, 'getBanner'> & Pick<Timeline, 'listTimeline'>;

export const CONSOLE_PATH = '/console';
/** Chart.js's browser build, served from node_modules: the console loads nothing from elsewhere. */
const CHART_JS_PATH = `${CONSOLE_PATH}/assets/chart.js`;
const PAGE = consolePage(CONSOLE_PATH);

export interface ConsoleCase {
  case: DunningCase;
  /** The amount due as an operator reads it (Stripe's decimal places for the currency). */
  amount: string;
  timeline: TimelineEntry[];
  /** The timeline as points on a time axis, for the case's chart. */
  series: TimelinePoint[];
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
  /** The charts' numbers: the funnel, the endings by day, the open cases by stage. */
  overview: RecoveryOverview;
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
      series: caseTimelineSeries(timeline),
      banner: banners.get(c.customerId) ?? null,
      emails: timeline
        .filter((e) => e.type === 'notice_sent' && e.messageId)
        .map((e) => ({ stage: e.stage, subject: e.detail, messageId: e.messageId!, at: e.at, url: `${origin}${consoleEmailPath(e.messageId!)}` })),
      events: published
        .filter((e) => e.detail.invoiceId === c.invoiceId)
        .map((e) => ({ detailType: e.detailType, time: e.time, eventId: String(e.detail.eventId ?? ''), summary: summaryOf(e.detail) })),
    });
  }
  return { generatedAt: now.toISOString(), sesInbox, cases: rows, openCases, overview: recoveryOverview(policies, cases, now) };
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
  if (url.pathname === CHART_JS_PATH) {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' });
    res.end(chartJsSource());
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The page's own scripts and Chart.js from this origin only; it talks to this origin alone.
    'content-security-policy': "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
  });
  res.end(PAGE);
}

/** What an event says beyond its type, in a few words: its stage and its own fields. */
function summaryOf(detail: Record<string, unknown>): string {
  const keys = ['stage', 'outcome', 'declineClass', 'reason', 'access', 'recoveredBy', 'endAction', 'errorName'];
  return keys.filter((k) => detail[k] !== null && detail[k] !== undefined).map((k) => `${k}: ${String(detail[k])}`).join(', ');
}
