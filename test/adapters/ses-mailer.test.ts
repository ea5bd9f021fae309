import { SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSesClient } from '#shared/adapters/aws-clients.ts';
import { pacedMailer, sanitizeTag, SesMailer } from '#shared/adapters/ses-mailer.ts';
import { RequestPacer } from '#shared/adapters/request-pacer.ts';
import { maskEmailAddresses } from '#shared/domain/mask-email.ts';
import { EmailRejectedError, EmailThrottledError } from '#shared/domain/errors.ts';
import type { EmailMessage } from '#shared/domain/ports.ts';
import { memoryLimiter } from '../fixtures/memory-limiter.ts';
import { clearSesInbox, readSesInbox, sesThrottledCount, startSesLocal } from '#local/ses.ts';
import type { LocalService } from '#local/http-service.ts';
import { sdkError } from './helpers.ts';

let ses: LocalService;
let client: SESv2Client;

beforeAll(async () => {
  ses = await startSesLocal({ port: 0 });
  client = createSesClient({ endpoint: ses.endpoint });
});

beforeEach(async () => {
  await clearSesInbox(ses.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await ses?.close();
});

function aMessage(overrides: Partial<EmailMessage> = {}): EmailMessage {
  return {
    to: 'jane@example.com',
    subject: 'Your payment of €49.00 failed',
    text: 'Hello Jane,\nyour card was declined. Update it here: https://billing.example/x',
    html: '<p>Hello Jane,</p><p>your card was declined. <a href="https://billing.example/x">Update it</a></p>',
    tags: { stage: 'day0', case: 'in_123' },
    ...overrides,
  };
}

describe('SesMailer', () => {
  it('sends the subject, text and html to the recipient from the sender', async () => {
    const mailer = new SesMailer(client, { sender: 'Acme Billing <billing@acme.example>' });
    const message = aMessage();

    const { messageId } = await mailer.send(message);

    const inbox = await readSesInbox(ses.endpoint);
    expect(inbox).toHaveLength(1);
    expect(inbox[0]).toMatchObject({
      messageId,
      to: ['jane@example.com'],
      from: 'Acme Billing <billing@acme.example>',
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
    expect(Math.abs(inbox[0]!.at.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('sets the reply-to address when configured', async () => {
    const mailer = new SesMailer(client, { sender: 'billing@acme.example', replyTo: ['help@acme.example'] });

    await mailer.send(aMessage());

    expect((await readSesInbox(ses.endpoint))[0]?.replyTo).toEqual(['help@acme.example']);
  });

  it('is accepted with a configuration set and tags with characters SES forbids', async () => {
    const mailer = new SesMailer(client, { sender: 'billing@acme.example', configurationSet: 'dunning' });

    await mailer.send(aMessage({ tags: { stage: 'day 3 / final', 'case id': 'in_1.2' } }));

    // aws-ses-v2-local validates both fields but stores neither, so only acceptance is visible here.
    expect(await readSesInbox(ses.endpoint)).toHaveLength(1);
  });

  it('keeps non-ASCII subjects and bodies intact', async () => {
    const mailer = new SesMailer(client, { sender: 'billing@acme.example' });

    await mailer.send(aMessage({ subject: 'Zahlung über 49,00 € fehlgeschlagen', text: 'Grüße — 日本' }));

    const [email] = await readSesInbox(ses.endpoint);
    expect(email).toMatchObject({ subject: 'Zahlung über 49,00 € fehlgeschlagen', text: 'Grüße — 日本' });
  });
});

describe('SesMailer faults', () => {
  // aws-ses-v2-local never throttles or rejects; these faults are injected at the client's send.
  function mailerFailingWith(error: Error) {
    const failing = { send: () => Promise.reject(error) } as unknown as SESv2Client;
    return new SesMailer(failing, { sender: 'billing@acme.example' });
  }

  it.each([
    ['TooManyRequestsException', 429],
    ['LimitExceededException', 400],
    ['ThrottlingException', 400],
    ['InternalFailure', 500],
    ['ServiceUnavailable', 503],
  ])('maps %s to EmailThrottledError', async (name, status) => {
    await expect(mailerFailingWith(sdkError(name, status)).send(aMessage())).rejects.toBeInstanceOf(EmailThrottledError);
  });

  it('maps a network failure to EmailThrottledError', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

    await expect(mailerFailingWith(reset).send(aMessage())).rejects.toBeInstanceOf(EmailThrottledError);
  });

  it.each([
    'MessageRejected',
    'AccountSuspendedException',
    'SendingPausedException',
    'MailFromDomainNotVerifiedException',
    'NotFoundException',
    'BadRequestException',
  ])('maps %s to EmailRejectedError', async (name) => {
    await expect(mailerFailingWith(sdkError(name, 400)).send(aMessage())).rejects.toBeInstanceOf(EmailRejectedError);
  });

  it('never puts the recipient’s full address in the error it throws', async () => {
    const rejected = sdkError(
      'MessageRejected',
      400,
      'Email address is not verified. The following identities failed the check in region US-EAST-1: jane@example.com',
    );

    const error = (await mailerFailingWith(rejected)
      .send(aMessage())
      .then(() => undefined, (e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(EmailRejectedError);
    expect(error.message).not.toContain('jane@example.com');
    expect(error.message).toContain('j***@example.com');
    expect(error).not.toHaveProperty('cause');
  });

  it('maps an unreachable endpoint to EmailThrottledError', async () => {
    const unreachable = createSesClient({ endpoint: 'http://127.0.0.1:9' });
    const mailer = new SesMailer(unreachable, { sender: 'billing@acme.example' });

    await expect(mailer.send(aMessage())).rejects.toBeInstanceOf(EmailThrottledError);
    unreachable.destroy();
  });
});

describe('sanitizeTag', () => {
  it('replaces characters SES does not allow and caps the length at 256', () => {
    expect(sanitizeTag('day 3 / final.v2')).toBe('day_3___final_v2');
    expect(sanitizeTag('in_ABC-123')).toBe('in_ABC-123');
    expect(sanitizeTag('x'.repeat(300))).toHaveLength(256);
    expect(sanitizeTag('')).toBe('_');
  });
});

describe('maskEmailAddresses, as SES errors are recorded', () => {
  it('keeps the first character and the domain of each address', () => {
    expect(maskEmailAddresses('failed for <jane.doe@example.com> and bob@x.io')).toBe('failed for <j***@example.com> and b***@x.io');
  });
});

describe('the local SES’s maximum send rate, and the email budget under it', () => {
  // As an SES account: sends over the rate in any second get 429 "Maximum sending rate exceeded."
  let limited: LocalService;
  let limitedClient: SESv2Client;
  beforeAll(async () => {
    limited = await startSesLocal({ port: 0, maxSendRate: 3 });
    limitedClient = createSesClient({ endpoint: limited.endpoint });
  });
  afterAll(async () => {
    limitedClient?.destroy();
    await limited?.close();
  });

  it('refuses sends over the rate with SES’s 429, which the mailer reads as a throttle, and sends none of them', async () => {
    // No SDK retries, to see each answer as SES gives it (the SDK would retry a throttle twice).
    const once = new SESv2Client({ endpoint: limited.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    const mailer = new SesMailer(once, { sender: 'billing@acme.example' });
    const subjects = Array.from({ length: 5 }, (_, i) => `burst ${i} ${Date.now()}`);

    const sends = await Promise.allSettled(subjects.map((subject) => mailer.send(aMessage({ subject }))));

    expect(sends.filter((s) => s.status === 'fulfilled')).toHaveLength(3);
    const refused = sends.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(EmailThrottledError);
      expect((r.reason as Error).message).toMatch(/TooManyRequestsException.*Maximum sending rate exceeded/);
    }
    const delivered = (await readSesInbox(limited.endpoint)).filter((e) => subjects.includes(e.subject));
    expect(delivered).toHaveLength(3);
  });

  it('meets no throttle when paced under the rate: every email goes, later', async () => {
    // Its own SES, at 5 a second, and a budget of 1: even if a stalled process let all four go at
    // once (a loaded machine does that), none is over the rate.
    const roomy = await startSesLocal({ port: 0, maxSendRate: 5 });
    const roomyClient = createSesClient({ endpoint: roomy.endpoint });
    const throttledBefore = sesThrottledCount();
    const limiter = memoryLimiter();
    const mailer = pacedMailer(new SesMailer(roomyClient, { sender: 'billing@acme.example' }), new RequestPacer(limiter, { name: 'ses', budget: { perSecond: 1 }, maxWaitMs: 20_000 }));
    const subjects = Array.from({ length: 4 }, (_, i) => `paced ${i} ${Date.now()}`);
    const started = Date.now();

    try {
      await Promise.all(subjects.map((subject) => mailer.send(aMessage({ subject }))));

      expect((await readSesInbox(roomy.endpoint)).filter((e) => subjects.includes(e.subject))).toHaveLength(4);
      expect(sesThrottledCount() - throttledBefore).toBe(0);
      // Four at one a second: the last waits about three seconds.
      expect(Date.now() - started).toBeGreaterThanOrEqual(2500);
    } finally {
      roomyClient.destroy();
      await roomy.close();
    }
  }, 30_000);
});
