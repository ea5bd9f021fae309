// The small HTML pages the link endpoint answers when it cannot send the customer to Stripe. Pure.
// Each one says what happened in plain words and points to My Account; none reveals why a token
// failed in detail, whose it was, or anything about the server.

export type LinkPage = 'invalid' | 'expired' | 'paid' | 'closed' | 'rate_limited' | 'unavailable';

export interface LinkPageContext {
  brandName: string;
  myAccountUrl: string;
}

export interface RenderedPage {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const COPY: Record<LinkPage, { status: number; title: string; text: string }> = {
  invalid: {
    status: 404,
    title: "This link doesn't work",
    text: 'It may have been copied incompletely. You can update your payment details from My Account instead.',
  },
  expired: {
    status: 410,
    title: 'This link has expired',
    text: 'For your security, payment links only work for a limited time. You can update your payment details from My Account.',
  },
  paid: {
    status: 200,
    title: "Thank you, it's already sorted",
    text: 'Your payment has gone through, so there is nothing more to do. You can see your subscription in My Account.',
  },
  closed: {
    status: 410,
    title: 'This link is no longer needed',
    text: 'There is no payment waiting on this link any more. You can see your subscription and payment details in My Account.',
  },
  rate_limited: {
    status: 429,
    title: 'Please wait a few minutes',
    text: 'This link has been opened many times in a short while. Try again in a few minutes, or go to My Account.',
  },
  unavailable: {
    status: 503,
    title: "We couldn't open the payment page just now",
    text: 'Please try the link again in a moment, or update your payment details from My Account.',
  },
};

export function renderLinkPage(page: LinkPage, context: LinkPageContext): RenderedPage {
  const copy = COPY[page];
  const account = safeHttpUrl(context.myAccountUrl);
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(copy.title)} · ${escapeHtml(context.brandName)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1f36;line-height:1.5}
a.button{display:inline-block;padding:.6rem 1.1rem;background:#0a5cff;color:#fff;text-decoration:none;border-radius:.3rem}
</style></head><body>
<p>${escapeHtml(context.brandName)}</p>
<h1 id="title">${escapeHtml(copy.title)}</h1>
<p id="message">${escapeHtml(copy.text)}</p>
${account ? `<p><a class="button" id="my-account" href="${escapeHtml(account)}">Go to My Account</a></p>` : ''}
</body></html>`;
  const headers: Record<string, string> = {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  };
  if (page === 'rate_limited') headers['retry-after'] = '600';
  return { status: copy.status, headers, body };
}

function safeHttpUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
