import { describe, expect, it } from 'vitest';
import type { DunningCase } from '#shared/domain/case.ts';
import { addDays, formatDate, formatMoney } from '#shared/notices/format.ts';
import { renderNotice } from '#shared/notices/render.ts';
import type { NoticeStage } from '#shared/policy/schema.ts';
import { defaultPolicy } from '../fixtures/policies.ts';

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
const notice = (id: string) => (defaultPolicy().stages.find((s) => s.id === id) as NoticeStage).notice;

describe('formatMoney', () => {
  it('formats the smallest unit in the currency and locale', () => {
    expect(formatMoney({ amount: 1500, currency: 'gbp' }, 'en-GB')).toBe('£15.00');
    expect(formatMoney({ amount: 1999, currency: 'eur' }, 'de-DE')).toBe('19,99\u00a0€');
    expect(formatMoney({ amount: 1500, currency: 'jpy' }, 'ja-JP')).toBe('￥1,500');
  });
});

describe('formatDate', () => {
  it('renders a business date in the customer locale and the policy time zone', () => {
    expect(formatDate('2026-12-15T10:00:00Z', 'en-GB', 'UTC')).toBe('15 December 2026');
    expect(formatDate('2026-12-15T10:00:00Z', 'en-US', 'UTC')).toBe('December 15, 2026');
    expect(formatDate('2026-12-15T23:30:00Z', 'en-GB', 'Asia/Tokyo')).toBe('16 December 2026');
  });
});

describe('renderNotice', () => {
  it('names the termination date, 14 days after the failure, in notice 3', () => {
    const rendered = renderNotice(notice('Notice3'), { policy: defaultPolicy(), dunningCase: aCase() });

    expect(rendered.subject).toBe('Your subscription is due to terminate');
    expect(rendered.text).toContain('otherwise your subscription will terminate on 15 December 2026');
    expect(rendered.banner).toContain('15 December 2026');
  });

  it('links the update-payment button to the given URL in text and HTML', () => {
    const url = 'https://billing.stripe.com/p/session/test_123';

    const rendered = renderNotice(notice('Notice1'), { policy: defaultPolicy(), dunningCase: aCase(), updatePaymentUrl: url });

    expect(rendered.action).toEqual({ label: 'Update payment details', url });
    expect(rendered.text).toContain(`Update payment details: ${url}`);
    expect(rendered.html).toContain(`href="${url}"`);
    expect(rendered.text).toContain('Hi Ada,');
    expect(rendered.text).toContain('£15.00');
  });

  it('uses the customer locale when Stripe knows it', () => {
    const rendered = renderNotice(notice('Notice3'), {
      policy: defaultPolicy(),
      dunningCase: aCase({ customerLocale: 'en-US', amountDue: { amount: 2500, currency: 'usd' } }),
    });

    expect(rendered.text).toContain('$25.00');
    expect(rendered.text).toContain('December 15, 2026');
  });

  it('escapes customer-controlled text in HTML', () => {
    const rendered = renderNotice(notice('Notice1'), {
      policy: defaultPolicy(),
      dunningCase: aCase({ customerName: '<script>alert(1)</script>' }),
    });

    expect(rendered.html).not.toContain('<script>');
    expect(rendered.html).toContain('&lt;script&gt;');
  });

  it('greets a customer with no name politely', () => {
    const rendered = renderNotice(notice('Notice1'), { policy: defaultPolicy(), dunningCase: aCase({ customerName: undefined }) });

    expect(rendered.text).toContain('Hi there,');
  });
});
