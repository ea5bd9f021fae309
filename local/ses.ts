// SES v2 on loopback: aws-ses-v2-local in-process. It keeps every sent email in memory and shows
// them at its endpoint (web inbox at `/`, JSON at `GET /store`). Talk to it through SES v2 only:
// it never answers SES v1 actions it lacks, so a v1 client would hang. It accepts
// ConfigurationSetName and EmailTags (schema-checked only) but neither stores nor publishes them:
// no event destinations locally. Its 400s carry no error type, so the SDK names them `Unknown`.
import { SettingsError } from '#shared/command-line.ts';
import { serviceOf, type LocalService } from './http-service.ts';
import { createRequire } from 'node:module';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

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
 * A new production SES account's maximum send rate (docs.aws.amazon.com/ses/latest/dg/
 * manage-sending-quotas.html): what the local SES enforces unless DUNNING_SES_MAX_SEND_RATE says.
 */
export const DEFAULT_MAX_SEND_RATE = 14;

/**
 * Starts aws-ses-v2-local; port 0 picks a free port. Its store is a module-level singleton, so
 * two servers in one process share one inbox. `maxSendRate` (emails per second, 0 for none) is
 * enforced as SES enforces an account's: a SendEmail over it gets 429 TooManyRequestsException,
 * "Maximum sending rate exceeded.", and is not sent.
 */
export async function startSesLocal({ port, host = '127.0.0.1', maxSendRate = DEFAULT_MAX_SEND_RATE }: { port: number; host?: string; maxSendRate?: number }): Promise<LocalService> {
  const server = await sesLocal.default({ port, host });
  // Its listen callback also fires on a listen error (EADDRINUSE) and resolves regardless.
  if (!server.listening) throw new SettingsError(`${host}:${port} is in use: set DUNNING_SES_PORT to a free port`);
  if (maxSendRate > 0) limitSendRate(server, maxSendRate);
  answerAccountQuestions(server, maxSendRate);
  return serviceOf(server);
}

/**
 * What `dunning doctor` asks SES, which aws-ses-v2-local does not answer as an account would:
 * GetAccount (out of the sandbox, sending enabled, the send rate this stand-in enforces) and
 * GetEmailIdentity (every identity verified: the stand-in accepts mail from any sender). The shapes
 * are SES v2's (docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html, _GetEmailIdentity).
 */
function answerAccountQuestions(server: Server, maxSendRate: number): void {
  const handlers = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const identity = /^\/v2\/email\/identities\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && (path === '/v2/email/account' || identity)) {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          identity
            ? { IdentityType: decodeURIComponent(identity[1]!).includes('@') ? 'EMAIL_ADDRESS' : 'DOMAIN', VerifiedForSendingStatus: true, VerificationStatus: 'SUCCESS', FeedbackForwardingStatus: true }
            : { ProductionAccessEnabled: true, SendingEnabled: true, EnforcementStatus: 'HEALTHY', SendQuota: { MaxSendRate: maxSendRate > 0 ? maxSendRate : 1000, Max24HourSend: 50_000, SentLast24Hours: 0 } },
        ),
      );
      return;
    }
    for (const handler of handlers) handler.call(server, req, res);
  });
}

/**
 * Puts SES's maximum send rate in front of aws-ses-v2-local, which has none: its own request
 * handlers run only for a send that fits in the last second's quota. SES v2 answers one over it with
 * HTTP 429 and `{"message":"Maximum sending rate exceeded."}` (TooManyRequestsException, as the SDK
 * reads `x-amzn-ErrorType`). Only SendEmail counts; the store and the web inbox never do.
 */
function limitSendRate(server: Server, perSecond: number): void {
  const handlers = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  const sentAt: number[] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && (req.url ?? '').startsWith('/v2/email/outbound-emails')) {
      const now = Date.now();
      while (sentAt.length > 0 && sentAt[0]! <= now - 1000) sentAt.shift();
      if (sentAt.length >= perSecond) {
        req.resume();
        res.writeHead(429, { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' });
        res.end(JSON.stringify({ message: 'Maximum sending rate exceeded.' }));
        throttled++;
        return;
      }
      sentAt.push(now);
    }
    for (const handler of handlers) handler.call(server, req, res);
  });
}

let throttled = 0;
/** How many sends the local SES refused for its maximum send rate since the process started. */
export function sesThrottledCount(): number {
  return throttled;
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
