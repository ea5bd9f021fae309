// A stand-in for YOUR site, to try both banners against the local runtime:
//
//   npm start                                  # in one terminal
//   npx tsx examples/banner/site.ts            # in another, then open the URL it prints
//
// It finds the runtime as `npm start` does: DUNNING_HOST and DUNNING_PORT (127.0.0.1:3000 unless
// set), and DUNNING_BANNER_TOKEN; DUNNING_NOTICE_API_URL names another notice API outright. PORT
// moves the site itself (4000). A banner fetch that fails is logged with its status and reason.
//
// It serves a "My Account" page with the framework-free banner and the React one, and the backend
// route they call, /account/dunning-notice, which forwards to the notice API with the credentials
// only the server holds: a bearer token locally; in AWS, sign the request with SigV4 for service
// `lambda` (e.g. @smithy/signature-v4) using a role granted by `grantNoticeApi()`.
//
// DEMO SHORTCUT: the customer is taken from `?customer=cus_…`. A real site takes the Stripe customer
// id from the signed-in user's session, never from the request, or anyone could read anyone's banner.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface ExampleSiteOptions {
  /** The notice API's base URL: the local runtime (http://127.0.0.1:3000) or the Function URL. */
  noticeApiUrl: string;
  /** Locally: DUNNING_BANNER_TOKEN. */
  bearerToken: string;
  port?: number;
  host?: string;
  /** Where a failed banner fetch is told (status and reason); stderr unless given. */
  log?: (line: string) => void;
}

export interface ExampleSite {
  url: string;
  close(): Promise<void>;
}

/** Bundles the React example for the browser, as your own build would. */
export async function bundleReactBanner(): Promise<string> {
  const result = await build({
    entryPoints: [`${HERE}react-demo.tsx`],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    jsx: 'automatic',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export async function startExampleSite(options: ExampleSiteOptions): Promise<ExampleSite> {
  const script = readFileSync(`${HERE}banner.js`, 'utf8');
  const css = readFileSync(`${HERE}banner.css`, 'utf8');
  const react = await bundleReactBanner();
  const api = options.noticeApiUrl.replace(/\/+$/, '');
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://site');
      const customer = url.searchParams.get('customer') ?? '';
      if (url.pathname === '/account') {
        const endpoint = `/account/dunning-notice?customer=${encodeURIComponent(customer)}`;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(accountPage(endpoint));
        return;
      }
      if (url.pathname === '/account/dunning-notice') {
        // Your backend: who is signed in decides the customer id (see the DEMO SHORTCUT above).
        if (!/^cus_[A-Za-z0-9]+$/.test(customer)) return void res.writeHead(204).end();
        // A failure is logged, with the notice API's own words: the banner then shows nothing, and
        // an empty banner says nothing about why.
        const noticeUrl = `${api}/customers/${customer}/notice`;
        let upstream: Response;
        try {
          upstream = await fetch(noticeUrl, { headers: { authorization: `Bearer ${options.bearerToken}` } });
        } catch (error) {
          const reason = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
          log(`banner: could not reach the notice API at ${noticeUrl}: ${reason} (is npm start running there? DUNNING_HOST/DUNNING_PORT move it)`);
          return void res.writeHead(502, { 'content-type': 'application/json' }).end('{"error":"notice API unavailable"}');
        }
        if (upstream.status === 204) return void res.writeHead(204, { 'cache-control': 'no-store' }).end();
        if (!upstream.ok) {
          const reason = (await upstream.text()).slice(0, 500);
          log(`banner: the notice API answered ${upstream.status} ${upstream.statusText} for ${noticeUrl}: ${reason}`);
          return void res.writeHead(502, { 'content-type': 'application/json' }).end('{"error":"notice API unavailable"}');
        }
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(await upstream.text());
        return;
      }
      const asset = { '/banner.js': [script, 'text/javascript'], '/banner.css': [css, 'text/css'], '/react-banner.js': [react, 'text/javascript'] }[url.pathname];
      if (asset) return void res.writeHead(200, { 'content-type': `${asset[1]}; charset=utf-8` }).end(asset[0]);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    })().catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String((error as Error).message));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function accountPage(endpoint: string): string {
  const attr = endpoint.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>My Account</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/banner.css">
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#1a1f36} h2{font-size:13px;text-transform:uppercase;color:#697386;margin:20px 0 0}</style>
</head><body>
<h1>My Account</h1>
<h2>banner.js</h2>
<div id="script-banner" data-dunning-banner data-endpoint="${attr}"></div>
<h2>React &lt;DunningBanner&gt;</h2>
<div id="react-banner" data-endpoint="${attr}"></div>
<script src="/banner.js" defer></script>
<script src="/react-banner.js" defer></script>
</body></html>`;
}

/**
 * The notice API this example calls: DUNNING_NOTICE_API_URL when set, else the local runtime where
 * `npm start` listens (DUNNING_HOST, DUNNING_PORT; 127.0.0.1:3000 unless set).
 */
export function noticeApiUrlOf(env: NodeJS.ProcessEnv): string {
  if (env.DUNNING_NOTICE_API_URL) return env.DUNNING_NOTICE_API_URL;
  const host = env.DUNNING_HOST || '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${env.DUNNING_PORT || '3000'}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const noticeApiUrl = noticeApiUrlOf(process.env);
  const site = await startExampleSite({
    noticeApiUrl,
    bearerToken: process.env.DUNNING_BANNER_TOKEN || 'dev-banner-token',
    port: Number(process.env.PORT || 4000),
  });
  process.stdout.write(`My Account example: ${site.url}/account?customer=cus_…  (notice API ${noticeApiUrl})\n`);
}
