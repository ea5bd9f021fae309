// Deliverability: SES event notifications (as SNS delivers them) are recorded on the case, and an
// address that hard-bounced or complained gets no more email while the case goes on. Locally
// aws-ses-v2-local publishes no events, so the tests POST SES's own record shapes to the runtime's
// /ses/events route, which feeds the same handler SNS invokes in AWS.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDocumentClient } from '#shared/adapters/aws-clients.ts';
import { SesMailer } from '#shared/adapters/ses-mailer.ts';
import { keys } from '#shared/adapters/table.ts';
import type { BannerView } from '#shared/dunning/current-banner.ts';
import { StoreUnavailableError } from '#shared/domain/errors.ts';
import type { MetricName } from '#shared/dunning/deps.ts';
import { recordingMetrics } from '../fixtures/metrics.ts';
import { recordEmailEvent, recordSnsMessage } from '#shared/dunning/email-events.ts';
import { currentBanner } from '#shared/dunning/current-banner.ts';
import { runNoticeStage } from '#shared/dunning/stages.ts';
import { addressKey } from '#shared/dunning/suppression.ts';
import { createHandler as createRecordEmailEvent } from '#functions/record-email-event/handler.ts';
import { readSesInbox } from '#local/ses.ts';
import { bounceRecord, complaintRecord, deliveryRecord, rejectRecord, snsNotification, type SentMail } from '../fixtures/ses-events.ts';
import { closedCase, renew, startTestRuntime, subjectsTo, subscribeWithDecliningCard, SUBJECTS, waitFor, type TestRuntime } from '../fixtures/scenario.ts';
import { openCaseQuietly, realDeps } from '../fixtures/stage-deps.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ dayMs: 150 });
});
afterAll(async () => {
  await t?.close();
});

async function postSesEvent(notification: unknown): Promise<{ status: number; body: { results?: Array<{ action: string }> } }> {
  const response = await fetch(`${t.runtime.urls.app}/ses/events`, {
    method: 'POST',
    // The local endpoint that changes state wants the local token (SNS's own HTTPS delivery stands in).
    headers: { 'content-type': 'text/plain; charset=UTF-8', authorization: `Bearer ${t.runtime.config.bannerToken}` },
    body: typeof notification === 'string' ? notification : JSON.stringify(notification),
  });
  return { status: response.status, body: (await response.json()) as { results?: Array<{ action: string }> } };
}

/** The email SES took for `to` with `subject`, as the record SES would publish about it. */
async function sentMail(to: string, subject: string, invoiceId: string, stage: string): Promise<SentMail> {
  const email = (await readSesInbox(t.runtime.urls.ses)).find((m) => m.to.includes(to) && m.subject === subject);
  if (!email) throw new Error(`no "${subject}" email to ${to}`);
  return { messageId: email.messageId, to, tags: { stage, invoice: invoiceId } };
}

/** A recording sink, with what it recorded summed per metric name. */
function countingMetrics() {
  const sink = recordingMetrics();
  return {
    sink,
    get counts(): Partial<Record<MetricName, number>> {
      const counts: Partial<Record<MetricName, number>> = {};
      for (const datum of sink.data) counts[datum.name] = (counts[datum.name] ?? 0) + datum.value;
      return counts;
    },
  };
}

describe('a hard bounce during a running case', () => {
  it('stops the notices to that address while the retries charge and the banner shows, to the end', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Hard Bounce');
    const seen: { statusAfterBounce?: string; bannerAtNotice2?: BannerView; bounceResult?: string } = {};
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (error) return;
      if (state === 'Notice1') {
        const sent = await sentMail(subscriber.email, SUBJECTS.notice1, dunningCase.invoiceId, 'Notice1');
        const answer = await postSesEvent(snsNotification(bounceRecord(sent, 'Permanent')));
        seen.bounceResult = answer.body.results?.[0]?.action;
        seen.statusAfterBounce = (await t.runtime.store.getCase(dunningCase.invoiceId))?.status;
      }
      if (state === 'Notice2') seen.bannerAtNotice2 = await currentBanner(t.runtime.store, subscriber.customerId);
    });

    await renew(t.stripe, subscriber);
    const ended = await closedCase(t.runtime, subscriber.subscriptionId);
    // The termination email is attempted just after the close: wait for its outcome.
    const timeline = await waitFor(async () => {
      const entries = await t.runtime.store.listTimeline(ended.invoiceId);
      return entries.some((e) => e.stage === 'Terminate' && e.type === 'notice_undeliverable') && entries;
    }, 10_000, 'the termination email outcome');

    expect(seen.bounceResult).toBe('recorded');
    expect(seen.statusAfterBounce).toBe('open');
    expect(ended.emailSuppressed?.reason).toBe('bounce');
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1]);
    expect(timeline).toContainEqual(expect.objectContaining({ type: 'email_bounced', stage: 'Notice1', detail: 'Permanent/General 5.1.1' }));
    expect(timeline.filter((e) => e.type === 'email_suppressed')).toHaveLength(1);
    for (const stage of ['Notice2', 'Notice3', 'Terminate']) {
      expect(timeline).toContainEqual(expect.objectContaining({ type: 'notice_undeliverable', stage, detail: expect.stringMatching(/hard bounce/) }));
    }
    for (const stage of ['Retry1', 'Retry2', 'Retry3']) {
      expect(timeline).toContainEqual(expect.objectContaining({ type: 'retry_declined', stage }));
    }
    expect(seen.bannerAtNotice2).toMatchObject({ stage: 'Notice2', severity: 'warning' });
    expect(ended.status).toBe('terminated');
    expect(JSON.stringify(timeline)).not.toContain(subscriber.email);
  });
});

describe('a transient bounce', () => {
  it('is recorded, and the next notice still goes out', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Soft Bounce');
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state !== 'Notice1' || error) return;
      const sent = await sentMail(subscriber.email, SUBJECTS.notice1, dunningCase.invoiceId, 'Notice1');
      await postSesEvent(snsNotification(bounceRecord(sent, 'Transient', 'MailboxFull')));
    });

    await renew(t.stripe, subscriber);
    const ended = await closedCase(t.runtime, subscriber.subscriptionId);
    const timeline = await t.runtime.store.listTimeline(ended.invoiceId);

    expect(timeline).toContainEqual(expect.objectContaining({ type: 'email_bounced', detail: 'Transient/MailboxFull 4.2.2' }));
    expect(timeline.some((e) => e.type === 'email_suppressed')).toBe(false);
    expect(ended.emailSuppressed).toBeUndefined();
    expect(await waitFor(async () => {
      const subjects = await subjectsTo(t.runtime, subscriber.email);
      return subjects.length === 4 && subjects;
    }, 10_000, 'the termination email')).toEqual([SUBJECTS.notice1, SUBJECTS.notice2, SUBJECTS.notice3, SUBJECTS.ended]);
  });
});

describe('recordEmailEvent', () => {
  it('suppresses the address of a complaint, flags the case and counts it, and later notices send nothing', async () => {
    const c = await openCaseQuietly(t, 'Complains Loudly');
    await runNoticeStage(realDeps(t), c.invoiceId, 'Notice1');
    const sent = await sentMail(c.customerEmail!, SUBJECTS.notice1, c.invoiceId, 'Notice1');
    const metrics = countingMetrics();

    const result = await recordEmailEvent({ ...realDeps(t), metrics: metrics.sink }, complaintRecord(sent));
    // Run now, days ahead of its policy day (Retry1 before it would have moved it): as if it were due.
    const next = await runNoticeStage(realDeps(t), c.invoiceId, 'Notice2', undefined, { ahead: true });

    expect(result).toMatchObject({ action: 'recorded', eventType: 'Complaint', invoiceId: c.invoiceId, suppressed: 1 });
    expect(metrics.counts).toMatchObject({ EmailComplained: 1, EmailSuppressed: 1 });
    expect((await t.runtime.store.getCase(c.invoiceId))?.emailSuppressed?.reason).toBe('complaint');
    expect(next.outcome).toBe('undeliverable');
    expect(await subjectsTo(t.runtime, c.customerEmail!)).toEqual([SUBJECTS.notice1]);
    expect(await t.runtime.store.listTimeline(c.invoiceId)).toContainEqual(
      expect.objectContaining({ type: 'notice_undeliverable', stage: 'Notice2', detail: expect.stringMatching(/complaint/) }),
    );
  });

  it('keeps the suppression under a hash of the address, never the address', async () => {
    const c = await openCaseQuietly(t, 'Hashed Address');
    const sent: SentMail = { messageId: `msg-${c.invoiceId}`, to: c.customerEmail!, tags: { stage: 'Notice1', invoice: c.invoiceId } };

    await recordEmailEvent(realDeps(t), bounceRecord(sent));
    const item = await createDynamoDocumentClient({}).send(
      new GetCommand({ TableName: t.runtime.config.tableName, Key: keys.suppression(addressKey(c.customerEmail!.toUpperCase())) }),
    );

    expect(item.Item).toMatchObject({ reason: 'bounce', detail: 'Permanent/General', invoiceId: c.invoiceId });
    expect(String(item.Item?.pk)).toMatch(/^EMAIL#[0-9a-f]{64}$/);
    expect(JSON.stringify(item.Item)).not.toContain(c.customerEmail!.split('@')[0]);
  });

  it('records a delivery and a reject on the timeline without suppressing anything', async () => {
    const c = await openCaseQuietly(t, 'Delivered Fine');
    const sent: SentMail = { messageId: `msg-${c.invoiceId}`, to: c.customerEmail!, tags: { stage: 'Notice1', invoice: c.invoiceId } };
    const metrics = countingMetrics();
    const deps = { ...realDeps(t), metrics: metrics.sink };

    await recordEmailEvent(deps, deliveryRecord(sent));
    await recordEmailEvent(deps, rejectRecord(sent));
    const timeline = await t.runtime.store.listTimeline(c.invoiceId);

    expect(timeline).toContainEqual(expect.objectContaining({ type: 'email_delivered', stage: 'Notice1', detail: 'delivered (250 2.6.0)' }));
    expect(timeline).toContainEqual(expect.objectContaining({ type: 'email_rejected', stage: 'Notice1', detail: 'Bad content' }));
    expect(metrics.counts).toEqual({ EmailDelivered: 1, EmailRejected: 1 });
    expect(await t.runtime.store.getEmailSuppression(addressKey(c.customerEmail!))).toBeUndefined();
  });

  it('applies an event SNS delivers twice only once', async () => {
    const c = await openCaseQuietly(t, 'Delivered Twice');
    const sent: SentMail = { messageId: `msg-${c.invoiceId}`, to: c.customerEmail!, tags: { stage: 'Notice1', invoice: c.invoiceId } };
    const metrics = countingMetrics();

    const first = await postSesEvent(snsNotification(bounceRecord(sent), 'sns-1'));
    const second = await postSesEvent(snsNotification(bounceRecord(sent), 'sns-2'));
    const direct = await recordEmailEvent({ ...realDeps(t), metrics: metrics.sink }, bounceRecord(sent));

    expect(first.body.results?.[0]?.action).toBe('recorded');
    expect(second.body.results?.[0]?.action).toBe('duplicate');
    expect(direct.action).toBe('duplicate');
    expect(metrics.counts).toEqual({});
    expect((await t.runtime.store.listTimeline(c.invoiceId)).filter((e) => e.type === 'email_bounced')).toHaveLength(1);
  });

  it('still suppresses an address whose email belongs to no case (a tag we do not know)', async () => {
    const sent: SentMail = { messageId: 'msg-orphan', to: 'orphan@example.com', tags: { stage: 'Notice1', invoice: 'in_unknown' } };

    const result = await recordEmailEvent(realDeps(t), bounceRecord(sent));

    expect(result).toMatchObject({ action: 'recorded', suppressed: 1 });
    expect(result).not.toHaveProperty('invoiceId', expect.anything());
    expect(await t.runtime.store.getEmailSuppression(addressKey('orphan@example.com'))).toMatchObject({ reason: 'bounce' });
  });
});

describe('bad SES event messages', () => {
  it('answers 400 to a body that is not an SNS notification, and changes nothing', async () => {
    expect((await postSesEvent('not json')).status).toBe(400);
    expect((await postSesEvent({ Type: 'SubscriptionConfirmation', Message: '{}' })).status).toBe(400);
  });

  it('logs, counts and acknowledges a message that cannot be used, so it is not retried forever', async () => {
    const metrics = countingMetrics();
    const deps = { ...realDeps(t), metrics: metrics.sink };

    const results = [
      await recordSnsMessage(deps, 'not json'),
      await recordSnsMessage(deps, JSON.stringify({ eventType: 'Bounce' })),
      await recordSnsMessage(deps, JSON.stringify({ eventType: 'Bounce', mail: { messageId: 'm-1' } })),
      await recordSnsMessage(deps, undefined),
    ];
    const unknown = await recordSnsMessage(deps, JSON.stringify({ eventType: 'Send', mail: { messageId: 'm-2' }, send: {} }));

    expect(results.map((r) => r.action)).toEqual(['unusable', 'unusable', 'unusable', 'unusable']);
    expect(unknown.action).toBe('ignored');
    expect(metrics.counts).toEqual({ EmailEventUnusable: 4 });
    expect((await postSesEvent(snsNotification({ eventType: 'Complaint' }))).body.results?.[0]?.action).toBe('unusable');
  });

  it('throws when the store fails, so Lambda retries the event, and the retry applies it once', async () => {
    const c = await openCaseQuietly(t, 'Store Hiccup');
    const sent: SentMail = { messageId: `msg-${c.invoiceId}`, to: c.customerEmail!, tags: { stage: 'Notice1', invoice: c.invoiceId } };
    const store = realDeps(t).store;
    let failures = 1;
    const flaky = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'appendTimeline' && failures > 0) {
          return async () => {
            failures -= 1;
            throw new StoreUnavailableError('DynamoDB unavailable (ThrottlingException)');
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });
    const handler = createRecordEmailEvent(async () => ({ ...realDeps(t), store: flaky }));
    const event = { Records: [{ Sns: { Message: JSON.stringify(deliveryRecord(sent)) } }] } as never;

    await expect(handler(event)).rejects.toBeInstanceOf(StoreUnavailableError);
    const retried = await handler(event);

    expect(retried.map((r) => r.action)).toEqual(['recorded']);
    expect((await t.runtime.store.listTimeline(c.invoiceId)).filter((e) => e.type === 'email_delivered')).toHaveLength(1);
  });
});

describe('a send SES refuses for an address on its account-level suppression list', () => {
  it('is recorded as undeliverable, keeps its claim and is not retried', async () => {
    const c = await openCaseQuietly(t, 'Account Suppressed');
    const refusing = {
      send: () =>
        Promise.reject(
          Object.assign(new Error(`Email address is on the suppression list for your account: ${c.customerEmail}`), {
            name: 'MessageRejected',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          }),
        ),
    } as unknown as SESv2Client;
    const deps = realDeps(t, { mailer: new SesMailer(refusing, { sender: 'billing@acme.test' }) });

    const first = await runNoticeStage(deps, c.invoiceId, 'Notice1');
    const again = await runNoticeStage(deps, c.invoiceId, 'Notice1');
    const timeline = await t.runtime.store.listTimeline(c.invoiceId);

    expect(first.outcome).toBe('undeliverable');
    expect(again.outcome).toBe('already_sent');
    expect(timeline.filter((e) => e.type === 'notice_undeliverable')).toEqual([
      expect.objectContaining({ stage: 'Notice1', detail: expect.stringMatching(/suppression list/) }),
    ]);
    expect(JSON.stringify(timeline)).not.toContain(c.customerEmail);
  });
});

describe('the tags a case email carries', () => {
  it('are sent to SES as EmailTags naming the stage and the invoice, which map its events back', async () => {
    const c = await openCaseQuietly(t, 'Tagged Mail');
    const commands: SendEmailCommand[] = [];
    const capturing = { send: (command: SendEmailCommand) => (commands.push(command), Promise.resolve({ MessageId: 'm-tagged' })) } as unknown as SESv2Client;

    await runNoticeStage(realDeps(t, { mailer: new SesMailer(capturing, { sender: 'billing@acme.test', configurationSet: 'dunning' }) }), c.invoiceId, 'Notice1');

    expect(commands[0]?.input).toMatchObject({
      ConfigurationSetName: 'dunning',
      EmailTags: expect.arrayContaining([
        { Name: 'stage', Value: 'Notice1' },
        { Name: 'invoice', Value: c.invoiceId },
      ]),
    });
  });
});
