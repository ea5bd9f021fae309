// SES v2 on loopback: aws-ses-v2-local in-process. It keeps every sent email in memory and shows
// them at its endpoint (web inbox at `/`, JSON at `GET /store`). Talk to it through SES v2 only:
// it never answers SES v1 actions it lacks, so a v1 client would hang. It accepts
// ConfigurationSetName and EmailTags (schema-checked only) but neither stores nor publishes them:
// no event destinations locally. Its 400s carry no error type, so the SDK names them `Unknown`.
import { SettingsError } from '#shared/command-line.ts';
import { serviceOf, type LocalService } from './http-service.ts';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';

type StartServer = (config?: { host?: string; port?: number }) => Promise<Server>;
// A CommonJS module whose `exports.default` is the server factory.
const sesLocal = createRequire(import.meta.url)('aws-ses-v2-local') as { default: StartServer };


/** One email as aws-ses-v2-local stored it. */
export interface InboxEmail {
  messageId: string;
  to: string[];
  from: string;
  replyTo: string[];
  subject: string;
  text?: string;
  html?: string;
  at: Date;
}

/**
 * Starts aws-ses-v2-local; port 0 picks a free port. Its store is a module-level singleton, so
 * two servers in one process share one inbox.
 */
export async function startSesLocal({ port, host = '127.0.0.1' }: { port: number; host?: string }): Promise<LocalService> {
  const server = await sesLocal.default({ port, host });
  // Its listen callback also fires on a listen error (EADDRINUSE) and resolves regardless.
  if (!server.listening) throw new SettingsError(`${host}:${port} is in use: set DUNNING_SES_PORT to a free port`);
  return serviceOf(server);
}

interface StoredEmail {
  messageId: string;
  from: string;
  replyTo?: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  /** Epoch seconds. */
  at: number;
}

/** The emails sent so far, oldest first, read from `GET <endpoint>/store`. */
export async function readSesInbox(endpoint: string): Promise<InboxEmail[]> {
  const res = await fetch(new URL('/store', endpoint));
  if (!res.ok) throw new Error(`aws-ses-v2-local store answered ${res.status}`);
  const store = (await res.json()) as { emails?: StoredEmail[] };
  return (store.emails ?? []).map((e) => ({
    messageId: e.messageId,
    to: e.destination.to,
    from: e.from,
    replyTo: e.replyTo ?? [],
    subject: e.subject,
    text: e.body.text,
    html: e.body.html,
    at: new Date(e.at * 1000),
  }));
}

/** Empties the inbox (and the stored templates, which the product does not use). */
export async function clearSesInbox(endpoint: string): Promise<void> {
  const res = await fetch(new URL('/clear-store', endpoint), { method: 'POST' });
  if (!res.ok) throw new Error(`aws-ses-v2-local clear-store answered ${res.status}`);
}
