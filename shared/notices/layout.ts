// The email frame every notice shares: HTML that mail clients render alike (tables, inline styles
// only, no <style>, no scripts, one 600 px column that shrinks to 320 px) and its plain-text twin.
// Takes HTML fragments already escaped by render.ts; it escapes only what it is given as text.

export interface EmailParts {
  /** BCP 47 language of the text, for <html lang>. */
  lang: string;
  subject: string;
  /** Hidden preview line most clients show after the subject. */
  preheader: string;
  productName: string;
  logoUrl?: string;
  colour: string;
  /** HTML fragments (escaped). */
  heading: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  buttonHelp: string;
  footer: string[];
}

const FONT = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const TEXT = '#1a1a1a';
const MUTED = '#5f6368';
/** Long words and URLs wrap instead of widening the page on a 320 px screen. */
const WRAP = 'overflow-wrap:anywhere;word-break:break-word';

export function emailHtml(p: EmailParts): string {
  const buttonText = readableOn(p.colour);
  const header = p.logoUrl
    ? `<img src="${escapeHtml(p.logoUrl)}" alt="${escapeHtml(p.productName)}" height="32" style="display:block;height:32px;width:auto;max-width:100%;border:0;outline:none;text-decoration:none">`
    : `<span style="${FONT};font-size:18px;font-weight:700;color:${p.colour};${WRAP}">${escapeHtml(p.productName)}</span>`;
  const button = p.action
    ? [
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 16px">',
        `<tr><td style="border-radius:6px;background:${p.colour}">`,
        `<a href="${escapeHtml(p.action.url)}" style="display:inline-block;padding:12px 20px;${FONT};font-size:16px;font-weight:600;line-height:1.3;color:${buttonText};text-decoration:none;border-radius:6px;${WRAP}">${p.action.label}</a>`,
        '</td></tr></table>',
        `<p style="margin:0 0 16px;${FONT};font-size:13px;line-height:1.5;color:${MUTED};${WRAP}">${p.buttonHelp}<br><a href="${escapeHtml(p.action.url)}" style="color:${MUTED};${WRAP}">${escapeHtml(p.action.url)}</a></p>`,
      ].join('\n')
    : '';
  return [
    '<!doctype html>',
    `<html lang="${escapeHtml(p.lang)}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="x-apple-disable-message-reformatting">',
    `<title>${escapeHtml(p.subject)}</title>`,
    '</head>',
    `<body style="margin:0;padding:0;background:#f4f5f7;-webkit-text-size-adjust:100%">`,
    `<div style="display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;mso-hide:all">${escapeHtml(p.preheader)}</div>`,
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;background:#f4f5f7">',
    '<tr><td align="center" style="padding:24px 8px">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background:#ffffff;border-radius:8px">',
    `<tr><td style="padding:24px 24px 8px">${header}</td></tr>`,
    '<tr><td style="padding:8px 24px 8px">',
    `<h1 style="margin:0 0 16px;${FONT};font-size:22px;line-height:1.3;font-weight:700;color:${TEXT};${WRAP}">${p.heading}</h1>`,
    ...p.paragraphs.map((html) => `<p style="margin:0 0 16px;${FONT};font-size:16px;line-height:1.5;color:${TEXT};${WRAP}">${html}</p>`),
    button,
    '</td></tr>',
    `<tr><td style="padding:16px 24px 24px;border-top:1px solid #e6e8eb">`,
    ...p.footer.map((html) => `<p style="margin:0 0 8px;${FONT};font-size:13px;line-height:1.5;color:${MUTED};${WRAP}">${html}</p>`),
    '</td></tr>',
    '</table>',
    '</td></tr>',
    '</table>',
    '</body>',
    '</html>',
  ]
    .filter(Boolean)
    .join('\n');
}

export interface TextParts {
  heading: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  colon: string;
  footer: string[];
}

export function emailText(p: TextParts): string {
  return [
    p.heading,
    '',
    ...p.paragraphs.flatMap((paragraph) => [paragraph, '']),
    ...(p.action ? [`${p.action.label}${p.colon} ${p.action.url}`, ''] : []),
    '--',
    ...p.footer,
  ].join('\n');
}

/** Black or white, whichever contrasts more with the brand colour (WCAG relative luminance). */
export function readableOn(hex: string): '#ffffff' | '#111111' {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
  const onWhite = 1.05 / (luminance + 0.05);
  const onBlack = (luminance + 0.05) / (0.0056 + 0.05);
  return onWhite >= onBlack ? '#ffffff' : '#111111';
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}
