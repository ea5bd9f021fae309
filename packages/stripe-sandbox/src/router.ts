// Maps `METHOD /v1/...` to handlers. Anything not listed is Stripe's 404 "Unrecognized request
// URL", never a silent success.
import type { Core } from './core.ts';
import type { Params } from './params.ts';

export interface Ctx {
  core: Core;
  method: string;
  path: string;
  /** Path segments captured by `:name` placeholders, in order. */
  args: string[];
  params: Params;
}

export type Handler = (ctx: Ctx) => unknown;

export interface Route {
  method: string;
  /** The path as written, e.g. `/v1/invoices/:id/pay`: with the method, the endpoint Stripe's rate limits count. */
  template: string;
  pattern: RegExp;
  handler: Handler;
}

export function route(method: string, path: string, handler: Handler): Route {
  const source = path.replace(/:[a-z_]+/g, '([^/]+)');
  return { method, template: path, pattern: new RegExp(`^${source}/?$`), handler };
}

export function match(routes: Route[], method: string, path: string): { handler: Handler; args: string[]; template: string } | undefined {
  for (const r of routes) {
    if (r.method !== method) continue;
    const m = r.pattern.exec(path);
    if (m) return { handler: r.handler, args: m.slice(1).map((s) => decodeURIComponent(s)), template: r.template };
  }
  return undefined;
}
