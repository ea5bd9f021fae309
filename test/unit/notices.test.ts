import { describe, expect, it } from 'vitest';
import type { DunningCase } from '#shared/domain/case.ts';
import { addDays, formatDate, formatMoney } from '#shared/domain/format.ts';
import { renderNotice } from '#shared/notices/render.ts';
import type { NoticeSpec } from '#shared/policy/schema.ts';
import { defaultPolicy, policyWith } from '../fixtures/policies.ts';

const failedAt = '2026-12-01T10:00:00.000Z';
const aCase = (overrides: Partial<DunningCase> = {}): DunningCase => ({
  invoiceId: 'in_1',
  customerId: 'cus_1',
  subscriptionId: 'sub_1',
  status: 'open',
  amountDue: { amount: 1500, currency: 'gbp' },
  customerEmail: 'ada@example.com',
  customerName: 'Ada Lovelace',
  livemode: false,
  failedAt,
  terminatesAt: addDays(failedAt, 14),
  executionName: 'in_1',
  noticesSent: [],
  createdAt: failedAt,
  updatedAt: failedAt,
  ...overrides,
});
const stageNotice = (id: string): NoticeSpec => {
  const stage = defaultPolicy().stages.find((s) => s.id === id);
  if (stage?.type !== 'notice') throw new Error(`no notice stage ${id}`);
  return stage.notice;
};
const render = (notice: NoticeSpec, overrides: Partial<DunningCase> = {}, policy = defaultPolicy()) =>
  renderNotice(notice, { policy, dunningCase: aCase(overrides), updatePaymentUrl: 'https://pay.example/u/tok_1' });

describe('formatMoney', () => {
  it('formats the smallest unit in the currency and locale', () => {
    expect(formatMoney({ amount: 1500, currency: 'gbp' }, 'en-GB')).toBe('£15.00');
    expect(formatMoney({ amount: 1999, currency: 'eur' }, 'de-DE')).toBe('19,99\u00a0€');
    expect(formatMoney({ amount: 1999, currency: 'eur' }, 'fr-FR')).toBe('19,99\u00a0€');
  });

  it('reads zero-decimal currencies (JPY, KRW) as whole units', () => {
    expect(formatMoney({ amount: 1500, currency: 'jpy' }, 'ja-JP')).toBe('￥1,500');
    expect(formatMoney({ amount: 1500, currency: 'jpy' }, 'en-GB')).toBe('JP¥1,500');
    expect(formatMoney({ amount: 15000, currency: 'krw' }, 'ko-KR')).toBe('₩15,000');
  });

  it('reads HUF and ISK in hundredths, as Stripe sends them, though Intl shows whole units', () => {
    expect(formatMoney({ amount: 150000, currency: 'huf' }, 'hu-HU')).toBe('1500\u00a0Ft');
    expect(formatMoney({ amount: 150000, currency: 'isk' }, 'en-GB')).toBe('ISK\u00a01,500');
  });

  it('reads three-decimal currencies in thousandths', () => {
    expect(formatMoney({ amount: 15250, currency: 'kwd' }, 'en-GB')).toBe('KWD\u00a015.250');
  });
});

describe('formatDate', () => {
  it('renders a business date in the customer locale and the given time zone', () => {
    expect(formatDate('2026-12-15T10:00:00Z', 'en-GB', 'UTC')).toBe('15 December 2026');
    expect(formatDate('2026-12-15T10:00:00Z', 'en-US', 'UTC')).toBe('December 15, 2026');
    expect(formatDate('2026-12-15T23:30:00Z', 'en-GB', 'Asia/Tokyo')).toBe('16 December 2026');
  });
});

describe('renderNotice', () => {
  it('names the termination date, 14 days after the failure, in notice 3', () => {
    const rendered = render(stageNotice('Notice3'));

    expect(rendered.subject).toBe('Your subscription is due to terminate');
    expect(rendered.text).toContain('otherwise your subscription will terminate on 15 December 2026');
  });

  it('links the update-payment button to the given URL in text and HTML', () => {
    const url = 'https://billing.stripe.com/p/session/test_123';

    const rendered = renderNotice(stageNotice('Notice1'), { policy: defaultPolicy(), dunningCase: aCase(), updatePaymentUrl: url });

    expect(rendered.action).toEqual({ label: 'Update payment details', url });
    expect(rendered.text).toContain(`Update payment details: ${url}`);
    expect(rendered.html).toContain(`href="${url}"`);
    expect(rendered.text).toContain('Hi Ada,');
    expect(rendered.text).toContain('£15.00');
  });

  it('links My Account by name in HTML and spells the URL out in the text part', () => {
    const rendered = render(stageNotice('Notice1'));

    expect(rendered.html).toMatch(/<a href="http:\/\/127\.0\.0\.1:3000\/account"[^>]*>My Account<\/a>/);
    expect(rendered.text).toContain('via My Account (http://127.0.0.1:3000/account)');
  });

  it('uses the customer locale when Stripe knows it', () => {
    const rendered = render(stageNotice('Notice3'), { customerLocale: 'en-US', amountDue: { amount: 2500, currency: 'usd' } });

    expect(rendered.text).toContain('$25.00');
    expect(rendered.text).toContain('December 15, 2026');
  });

  it('writes to a French customer in French, with French money and dates', () => {
    const rendered = render(stageNotice('Notice3'), { customerLocale: 'fr-FR', amountDue: { amount: 1999, currency: 'eur' } });

    expect(rendered.language).toBe('fr');
    expect(rendered.subject).toBe('Votre abonnement va bientôt être résilié');
    expect(rendered.text).toContain('Bonjour Ada,');
    expect(rendered.text).toContain('19,99\u00a0€');
    expect(rendered.text).toContain('résilié le 15 décembre 2026');
    expect(rendered.html).toContain('<html lang="fr">');
    expect(rendered.html).toContain('>Mon compte</a>');
  });

  it('writes to an Austrian customer in German, with Austrian formatting', () => {
    const rendered = render(stageNotice('Notice1'), { customerLocale: 'de-AT', amountDue: { amount: 4900, currency: 'eur' } });

    expect(rendered.subject).toBe('Wir konnten Ihre Zahlung nicht einziehen');
    expect(rendered.text).toContain('Hallo Ada,');
    expect(rendered.text).toContain('€\u00a049,00');
    expect(rendered.action?.label).toBe('Zahlungsdaten aktualisieren');
  });

  it('falls back to the default locale, text and formatting alike, for a language with no catalog', () => {
    const rendered = render(stageNotice('Notice3'), { customerLocale: 'es-ES' });

    expect(rendered.language).toBe('en');
    expect(rendered.subject).toBe('Your subscription is due to terminate');
    // en-GB (the policy's locale), not "15 de diciembre" inside an English sentence.
    expect(rendered.text).toContain('on 15 December 2026');
    expect(rendered.text).toContain('£15.00');
  });

  it('falls back to the default locale for a locale Intl cannot read', () => {
    expect(render(stageNotice('Notice1'), { customerLocale: 'not a locale!' }).language).toBe('en');
  });

  it('shows dates in the customer time zone when the case has one, else in the policy zone', () => {
    const late = { failedAt: '2026-12-01T14:00:00.000Z', terminatesAt: '2026-12-15T14:00:00.000Z' };

    expect(render(stageNotice('Notice3'), { ...late, customerTimeZone: 'Pacific/Auckland' }).text).toContain('on 16 December 2026');
    expect(render(stageNotice('Notice3'), late).text).toContain('on 15 December 2026');
    expect(render(stageNotice('Notice3'), { ...late, customerTimeZone: 'Mars/Olympus_Mons' }).text).toContain('on 15 December 2026');
  });

  it('escapes customer-controlled text in HTML and never turns it into a link', () => {
    const rendered = render(stageNotice('Notice1'), { customerName: '<script>alert(1)</script>' });
    const linked = render(stageNotice('Notice1'), { customerName: 'https://evil.example/x' });

    expect(rendered.html).not.toContain('<script>');
    expect(rendered.html).toContain('&lt;script&gt;');
    expect(linked.html).not.toContain('href="https://evil.example');
  });

  it('keeps a name with line breaks out of headers and paragraphs', () => {
    const rendered = render({ subject: 'Hello {customerName}', heading: 'Hi', body: ['Hi {customerName},'], link: 'update_payment' }, {
      customerName: 'Ada\r\nBcc: x@evil.example',
    });

    expect(rendered.subject).toBe('Hello Ada');
  });

  it('greets a customer with no name politely, in their language', () => {
    expect(render(stageNotice('Notice1'), { customerName: undefined }).text).toContain('Hi there,');
    expect(render(stageNotice('Notice1'), { customerName: undefined, customerLocale: 'fr' }).text).toContain('\n\nBonjour,\n');
    expect(render(stageNotice('Notice1'), { customerName: undefined, customerLocale: 'de' }).text).toContain('\n\nGuten Tag,\n');
  });

  it('links the invoice page, not the card update, for "action required"', () => {
    const rendered = render({ message: 'action_required' }, { hostedInvoiceUrl: 'https://invoice.example/i/1' });

    expect(rendered.action).toEqual({ label: 'Confirm payment', url: 'https://invoice.example/i/1' });
  });

  it('frames every email with the brand: logo with alt text, My Account and the support address', () => {
    const policy = policyWith((p) => {
      p.brand.productName = 'Acme & Co';
      p.brand.logoUrl = 'https://cdn.acme.example/logo.png';
    });

    const rendered = render(stageNotice('Notice2'), {}, policy);

    expect(rendered.html).toContain('<img src="https://cdn.acme.example/logo.png" alt="Acme &amp; Co"');
    expect(rendered.html).toContain('<a href="mailto:support@acme.test"');
    expect(rendered.text).toContain('Questions? Email us at support@acme.test.');
    expect(rendered.text).toContain("You're receiving this email about your Acme & Co subscription.");
  });

  it('puts white text on a dark brand colour and dark text on a light one', () => {
    const dark = render(stageNotice('Notice1'), {}, policyWith((p) => void (p.brand.colour = '#123456')));
    const light = render(stageNotice('Notice1'), {}, policyWith((p) => void (p.brand.colour = '#ffd400')));

    expect(dark.html).toMatch(/color:#ffffff;text-decoration:none/);
    expect(light.html).toMatch(/color:#111111;text-decoration:none/);
  });
});

describe("renderNotice with a policy's own copy", () => {
  const inline = {
    subject: 'Payment for {productName} failed',
    heading: 'Payment failed',
    body: ['Hi {customerName},', 'Please pay {amount} by {terminatesOn}.'],
    action: 'Pay now',
    link: 'update_payment' as const,
  };

  it('renders inline copy as written, in the default locale, as before the catalogs', () => {
    const rendered = render(inline, { customerLocale: 'fr-FR' });

    expect(rendered.subject).toBe('Payment for Acme failed');
    expect(rendered.paragraphs).toEqual(['Hi Ada,', 'Please pay £15.00 by 15 December 2026.']);
  });

  it('picks the copy for the customer language, then the default locale', () => {
    const notice: NoticeSpec = {
      locales: {
        en: inline,
        'fr-FR': { ...inline, subject: 'Le paiement pour {productName} a échoué', body: ['Bonjour {customerName},', 'Merci de régler {amount}.'] },
        de: { ...inline, subject: 'Zahlung fehlgeschlagen', body: ['Hallo {customerName},', 'Bitte zahlen Sie {amount}.'] },
      },
    };

    expect(render(notice, { customerLocale: 'fr-CA' }).subject).toBe('Le paiement pour Acme a échoué');
    // Formatted for the customer's own variant: fr-CA writes sterling "£", fr-FR "£GB".
    expect(render(notice, { customerLocale: 'fr-CA' }).paragraphs[1]).toMatch(/^Merci de régler 15,00\s£\.$/);
    expect(render(notice, { customerLocale: 'it-IT' }).subject).toBe('Payment for Acme failed');
    expect(render(notice, { customerLocale: 'de', customerName: undefined }).paragraphs[0]).toBe('Hallo,');
  });
});
