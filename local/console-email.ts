// One sent email as the customer sees it, for the console's email links: the HTML part as a page,
// under a small bar (subject, from, to, and a link to the text part), and the text part as text.
// Read from the SES stand-in's store, whose own per-email link answers JSON holding a byte array.
import type { ServerResponse } from 'node:http';
import { readSesInbox, type InboxEmail } from './ses.ts';

export const CONSOLE_EMAILS_PATH = '/console/emails';

/** Where the console shows this email (`…/text` is its text part). */
export function consoleEmailPath(messageId: string): string {
  return `${CONSOLE_EMAILS_PATH}/${encodeURIComponent(messageId)}`;
}

/** Answers `/console/emails/{messageId}` and `/console/emails/{messageId}/text`; false for any other path. */
export async function serveConsoleEmail(pathname: string, res: ServerResponse, sesInbox: string): Promise<boolean> {
  const match = /^\/console\/emails\/([^/]+)(\/text)?\/?$/.exec(pathname);
  if (!match) return false;
  const messageId = decodeURIComponent(match[1]!);
  const email = (await readSesInbox(sesInbox)).find((e) => e.messageId === messageId);
  if (!email) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`no email ${messageId} in the SES inbox (it is in memory: a restart empties it)`);
    return true;
  }
  if (match[2]) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(email.text ?? '(this email has no text part)');
    return true;
  }
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The email's own markup and styles, and its images (a logo); never a script.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:; base-uri 'none'; form-action 'none'",
  });
  res.end(emailPage(email, `${consoleEmailPath(messageId)}/text`));
  return true;
}

/** The HTML part with the bar put in at the top of its body; the text part in a <pre> when it has no HTML. */
export function emailPage(email: InboxEmail, textHref: string): string {
  const bar = `<div id="email-headers" style="font:14px/1.4 system-ui,sans-serif;background:#1d2430;color:#fff;padding:8px 12px;margin:0">
<strong id="email-subject">${escapeHtml(email.subject)}</strong><br>
from ${escapeHtml(email.from)} to ${escapeHtml(email.to.join(', '))} · ${escapeHtml(email.at.toISOString())} ·
<a id="text-part" href="${escapeHtml(textHref)}" style="color:#9cc3ff">text part</a>
</div>`;
  if (!email.html) {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(email.subject)}</title></head><body style="margin:0">${bar}<pre style="padding:12px;white-space:pre-wrap">${escapeHtml(email.text ?? '')}</pre></body></html>`;
  }
  const body = /<body[^>]*>/i.exec(email.html);
  if (!body) return `${bar}${email.html}`;
  const at = body.index + body[0].length;
  return `${email.html.slice(0, at)}${bar}${email.html.slice(at)}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
