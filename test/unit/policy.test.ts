import { describe, expect, it } from 'vitest';
import { PolicyError } from '#shared/policy/errors.ts';
import { loadPolicyFile, parsePolicy } from '#shared/policy/load.ts';
import { defaultPolicy } from '../fixtures/policies.ts';

describe('the default policy', () => {
  it('runs notice 1 on day 0, retries and notices on days 3 and 7, and a final retry on day 14', () => {
    const policy = defaultPolicy();

    const plan = policy.stages.map((s) => `${s.id}@${s.day}`);

    expect(plan).toEqual(['Notice1@0', 'Retry1@3', 'Notice2@3', 'Retry2@7', 'Notice3@7', 'Retry3@14']);
    expect(policy.end).toMatchObject({ day: 14, action: 'cancel_now' });
  });

  it('uses the escalating subjects the product promises', () => {
    const subjects = defaultPolicy().stages.flatMap((s) => (s.type === 'notice' ? [s.notice.subject] : []));

    expect(subjects).toEqual([
      "We haven't been able to take payment",
      'Act now to keep your subscription',
      'Your subscription is due to terminate',
    ]);
    expect(defaultPolicy().end.notice.subject).toBe('Your subscription has ended');
  });

  it('names the termination date in notice 3', () => {
    const notice3 = defaultPolicy().stages.find((s) => s.id === 'Notice3');

    expect(notice3?.type === 'notice' && notice3.notice.body.join(' ')).toContain('{terminatesOn}');
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
    input.end.notice.subject = '';

    const error = errorOf(input);

    expect(error.issues).toEqual([
      expect.stringMatching(/^policy\.json: stages\[1\]\.day: .*number/),
      expect.stringMatching(/^policy\.json: end\.notice\.subject: /),
    ]);
  });

  it('rejects a placeholder it cannot fill, listing the ones it can', () => {
    const input = base();
    input.stages[0].notice.body[0] = 'Hi {firstName}';

    expect(errorOf(input).message).toMatch(/stages\[0\]\.notice\.body\[0\]: unknown placeholder \{firstName\}.*\{customerName\}/);
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
});
