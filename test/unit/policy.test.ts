import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyError } from '#shared/policy/errors.ts';
import { loadPolicyFile, parsePolicy } from '#shared/policy/load.ts';
import { renderNotice } from '#shared/notices/render.ts';
import { MESSAGE_KINDS } from '#shared/policy/messages.ts';
import type { DunningCase } from '#shared/domain/case.ts';
import { defaultPolicy } from '../fixtures/policies.ts';

const inlineCopy = () => ({
  subject: 'Payment failed',
  heading: 'Payment failed',
  body: ['Hi {customerName}, please pay {amount}.'],
});
const someCase = {
  invoiceId: 'in_1', customerId: 'cus_1', subscriptionId: 'sub_1', status: 'open', amountDue: { amount: 1500, currency: 'gbp' },
  livemode: false, failedAt: '2026-12-01T10:00:00Z', terminatesAt: '2026-12-15T10:00:00Z', executionName: 'in_1',
  noticesSent: [], createdAt: '2026-12-01T10:00:00Z', updatedAt: '2026-12-01T10:00:00Z',
} satisfies DunningCase;

describe('the default policy', () => {
  it('runs notice 1 on day 0, retries and notices on days 3 and 7, and a final retry on day 14', () => {
    const policy = defaultPolicy();

    const plan = policy.stages.map((s) => `${s.id}@${s.day}`);

    expect(plan).toEqual(['Notice1@0', 'Retry1@3', 'Notice2@3', 'Retry2@7', 'Notice3@7', 'Retry3@14']);
    expect(policy.end).toMatchObject({ day: 14, action: 'cancel_now' });
  });

  it('uses the escalating subjects the product promises', () => {
    const policy = defaultPolicy();
    const subjectOf = (notice: Parameters<typeof renderNotice>[0]) => renderNotice(notice, { policy, dunningCase: someCase }).subject;

    const subjects = policy.stages.flatMap((s) => (s.type === 'notice' ? [subjectOf(s.notice)] : []));

    expect(subjects).toEqual([
      "We haven't been able to take payment",
      'Act now to keep your subscription',
      'Your subscription is due to terminate',
    ]);
    expect(subjectOf(policy.end.notice)).toBe('Your subscription has ended');
  });

  it('takes every notice from the catalogs, so each customer reads it in their language', () => {
    const policy = defaultPolicy();

    expect(policy.stages.flatMap((s) => (s.type === 'notice' ? [s.notice] : []))).toEqual([
      { message: 'payment_failed' },
      { message: 'act_now' },
      { message: 'due_to_terminate' },
    ]);
    expect([policy.end.notice, policy.recovered.notice, policy.actionRequired.notice]).toEqual([
      { message: 'terminated' },
      { message: 'recovered' },
      { message: 'action_required' },
    ]);
  });
});

describe('parsePolicy', () => {
  const base = () => structuredClone(defaultPolicy()) as Record<string, any>;

  function errorOf(input: unknown): PolicyError {
    try {
      parsePolicy(input, 'policy.json');
    } catch (error) {
      if (error instanceof PolicyError) return error;
      throw error;
    }
    throw new Error('expected the policy to be rejected');
  }

  it('names the field and the file of every problem', () => {
    const input = base();
    input.stages[1].day = 'three';
    input.end.notice = { ...inlineCopy(), subject: '' };

    const error = errorOf(input);

    expect(error.issues).toEqual([
      expect.stringMatching(/^policy\.json: stages\[1\]\.day: .*number/),
      expect.stringMatching(/^policy\.json: end\.notice\.subject: /),
    ]);
  });

  it('rejects a placeholder it cannot fill, listing the ones it can', () => {
    const input = base();
    input.stages[0].notice = { ...inlineCopy(), body: ['Hi {firstName}'] };

    expect(errorOf(input).message).toMatch(/stages\[0\]\.notice\.body\[0\]: unknown placeholder \{firstName\}.*\{customerName\}/);
  });

  it('still runs a policy that writes its own copy inline', () => {
    const input = base();
    input.stages[0].notice = { ...inlineCopy(), action: 'Pay now', banner: 'Please pay {amount}.' };

    expect(parsePolicy(input).stages[0]).toMatchObject({ notice: { subject: 'Payment failed', link: 'update_payment' } });
  });

  it('rejects an unknown catalog message, listing the valid ones', () => {
    const input = base();
    input.stages[2].notice = { message: 'act_now_please' };

    const message = errorOf(input).message;

    expect(message).toMatch(/stages\[2\]\.notice\.message: unknown message "act_now_please"; use one of/);
    for (const kind of MESSAGE_KINDS) expect(message).toContain(`"${kind}"`);
  });

  it('reports a mistake in per-locale copy against that locale', () => {
    const input = base();
    input.recovered.notice = { locales: { en: inlineCopy(), fr: { ...inlineCopy(), heading: '' }, 'not a locale!': inlineCopy() } };

    const message = errorOf(input).message;

    expect(message).toMatch(/recovered\.notice\.locales\.fr\.heading: /);
    expect(message).toMatch(/recovered\.notice\.locales\.not a locale!: must be a BCP 47 locale/);
  });

  it('needs per-locale copy in the default locale, for customers whose language has none', () => {
    const input = base();
    input.end.notice = { locales: { fr: inlineCopy(), de: inlineCopy() } };

    expect(errorOf(input).message).toMatch(/end\.notice\.locales: needs a copy in the policy's default locale "en-GB" \(add a "en" entry\)/);
  });

  it('rejects a default locale the catalogs cannot write in when a notice uses them', () => {
    const input = base();
    input.locale = 'es-ES';

    expect(errorOf(input).message).toMatch(/locale: the catalogs have no "es" .*use one of "en", "fr", "de", or write that notice's copy inline/);
  });

  it('rejects a link to a placeholder that is not a URL', () => {
    const input = base();
    input.stages[0].notice = { ...inlineCopy(), body: ['See [your bill]({amount}).'] };

    expect(errorOf(input).message).toMatch(/stages\[0\]\.notice\.body\[0\]: the link \[your bill\]\(\{amount\}\) must point to/);
  });

  it('says where the old top-level brandName and myAccountUrl went', () => {
    const input = base();
    input.brandName = 'Acme';
    input.myAccountUrl = 'https://acme.example/account';
    input.stages[0].notice = { ...inlineCopy(), body: ['Your {brandName} plan'] };

    const message = errorOf(input).message;

    expect(message).toMatch(/\(root\): "brandName" has moved: put it in "brand\.productName"; "myAccountUrl" has moved: put it in "brand\.myAccountUrl"/);
    expect(message).toMatch(/\{brandName\} is now \{productName\}/);
  });

  it('validates the brand: support address, logo and colour', () => {
    const input = base();
    input.brand.supportEmail = 'support at acme';
    input.brand.logoUrl = 'javascript:alert(1)';
    input.brand.colour = 'blue';

    const message = errorOf(input).message;

    expect(message).toMatch(/brand\.supportEmail: must be an email address/);
    expect(message).toMatch(/brand\.logoUrl: must be an http\(s\) URL of an image/);
    expect(message).toMatch(/brand\.colour: must be a hex colour/);
  });

  it('rejects stages out of day order', () => {
    const input = base();
    input.stages[1].day = 0;
    input.stages[0].day = 2;

    expect(errorOf(input).message).toMatch(/stages\[1\]\.day: stages must be in day order/);
  });

  it('rejects duplicate and reserved stage ids, which would collide as state names', () => {
    const input = base();
    input.stages[2].id = 'Notice1';
    input.stages[3].id = 'Terminate';

    const message = errorOf(input).message;

    expect(message).toMatch(/stages\[2\]\.id: duplicate stage id "Notice1"/);
    expect(message).toMatch(/stages\[3\]\.id: "Terminate" is reserved/);
  });

  it('reserves the policy Choice and the alsoNotify claims too', () => {
    const input = base();
    input.stages[0].id = 'ChoosePolicy';
    input.stages[2].id = 'AlsoNotify2';

    const message = errorOf(input).message;

    expect(message).toMatch(/stages\[0\]\.id: "ChoosePolicy" is reserved/);
    expect(message).toMatch(/stages\[2\]\.id: "AlsoNotify2" is reserved/);
  });

  it('rejects a state name Step Functions, alarms and the runbook would mangle', () => {
    const input = base();
    input.stages[0].id = 'notice one';

    expect(errorOf(input).message).toMatch(/stages\[0\]\.id: must be PascalCase/);
  });

  it('rejects an end before the last stage and a policy without any retry', () => {
    const early = base();
    early.end.day = 10;
    const noRetry = base();
    noRetry.stages = noRetry.stages.filter((s: { type: string }) => s.type === 'notice');

    expect(errorOf(early).message).toMatch(/end\.day: the end \(day 10\) cannot come before the last stage \(day 14\)/);
    expect(errorOf(noRetry).message).toMatch(/stages: needs at least one retry stage/);
  });

  it('rejects unknown fields, so a typo is not silently ignored', () => {
    const input = base();
    input.stages[1].days = 3;

    expect(errorOf(input).message).toMatch(/stages\[1\].*days/);
  });

  it('rejects an unknown time zone', () => {
    const input = base();
    input.timeZone = 'Mars/Olympus';

    expect(errorOf(input).message).toMatch(/timeZone: must be an IANA time zone/);
  });

  it('says which file it could not read', () => {
    expect(() => loadPolicyFile('/nonexistent/policy.json')).toThrow(/Cannot read policy file \/nonexistent\/policy\.json/);
  });

  it('reports one bad field as one line, so a start that refuses it prints nothing else', () => {
    const input = base();
    input.brand.myAccountUrl = 'account';

    expect(errorOf(input).message).toBe('Invalid dunning policy: policy.json: brand.myAccountUrl: must be an http(s) URL');
  });

  it('places a JSON mistake by line and column, as an editor shows it, not by character offset', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dunning-policy-')), 'policy.json');
    writeFileSync(file, '{\n  "brand": {\n    "productName": "Acme",\n  }\n}\n');

    expect(() => loadPolicyFile(file)).toThrow(`Policy file ${file} is not valid JSON: line 4, column 3: Expected double-quoted property name`);
  });

  it('places an unexpected token too, which JSON.parse gives no place for', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dunning-policy-')), 'policy.json');
    writeFileSync(file, '{\n  "locale": "en-GB",\n  "timeZone": UTC\n}\n');

    expect(() => loadPolicyFile(file)).toThrow(/is not valid JSON: line 3, column 15: Unexpected token 'U'$/);
  });
});
