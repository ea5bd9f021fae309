// The operator CLI (`bin/dunning.mjs`) as a child process against the local runtime, found through
// `--local` and its discovery document: every command on real cases, and the one-line errors.
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSesInbox } from '#local/ses.ts';
import { LOCAL_STATE_MACHINE_ARN } from '#local/runtime.ts';
import { executionArnFor } from '#shared/adapters/sfn-workflow.ts';
import { systemClock } from '#shared/domain/ports.ts';
import { OPERATOR_OUTPUTS, policyDigest } from '#shared/operator-outputs.ts';
import { loadPolicySetFile } from '#shared/policy/load.ts';
import { silentLog } from '#shared/dunning/deps.ts';
import { pauseCase } from '#shared/dunning/pause.ts';
import { addressKey } from '#shared/dunning/suppression.ts';
import {
  caseFor,
  latestEvent,
  putInWorkingCard,
  renew,
  startTestRuntime,
  subjectsTo,
  subscribeWithDecliningCard,
  SUBJECTS,
  waitFor,
  withDeliveriesPaused,
  type TestRuntime,
} from '../fixtures/scenario.ts';
import { shortPolicy } from '../fixtures/policies.ts';

const BIN = fileURLToPath(new URL('../../bin/dunning.mjs', import.meta.url));

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function dunning(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let t: TestRuntime;
let local: string[];
beforeAll(async () => {
  // Faults on purpose: the redrive test fails an execution on purpose (Stripe down for Retry1), which is what these alarms are for.
  t = await startTestRuntime({ dayMs: 300, expectAlarms: ['ExecutionsFailed', 'RetryPaymentErrors', 'NeedsAttention'] });
  local = ['--local', t.runtime.urls.app];
});
afterAll(async () => {
  await t?.close();
});

const opened = (subscriptionId: string) => waitFor(() => caseFor(t.runtime, subscriptionId), 10_000, 'the case');

describe('the operator CLI against the local runtime', () => {
  it('lists cases, charges one now and shows its timeline', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Operated Olive');
    // Held after Notice2 while the operator charges, so the sequence cannot charge first. (Pause and
    // resume run in test/e2e/operator-local.test.ts, on days long enough for a 30-day pause cap.)
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let notice2Done = false;
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state === 'Notice2' && !error && !notice2Done) {
        notice2Done = true;
        await held;
      }
    });
    await renew(t.stripe, subscriber);
    const dunningCase = await opened(subscriber.subscriptionId);
    const id = dunningCase.invoiceId;
    await waitFor(async () => notice2Done, 20_000, 'Notice2 to be held');

    const listed = await dunning([...local, 'cases', '--status', 'open']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^times are in each case's own clock: .* one policy day per 300 ms here$/m);
    expect(listed.stdout).toMatch(/^invoice\s+customer\s+status\s+stage\s+amount/m);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+Operated Olive \\(${subscriber.customerId}\\)\\s+open\\s+Notice2`));
    expect((await dunning([...local, 'cases', '--status', 'terminated'])).stdout).not.toContain(id);
    expect(await subjectsTo(t.runtime, subscriber.email)).toEqual([SUBJECTS.notice1, SUBJECTS.notice2]);

    // A working card whose webhooks are lost: only the operator's retry-now charges it.
    await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, subscriber.customerId));
    const retried = await dunning([...local, 'retry-now', id]);
    release();
    expect(retried).toMatchObject({ code: 0, stderr: '' });
    expect(retried.stdout).toBe(`${id}: paid £15.00. The case is recovered and the customer thanked.\n`);
    expect(await t.runtime.store.getCase(id)).toMatchObject({ status: 'recovered', recoveredBy: 'workflow_retry' });
    await waitFor(
      async () => t.runtime.stepFunctions.executions.get(executionArnFor(LOCAL_STATE_MACHINE_ARN, id))?.status !== 'RUNNING',
      10_000,
      'the execution to stop',
    );

    const shown = await dunning([...local, 'case', id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/status\s+recovered/);
    // Emails with their SES message ids, events with theirs, retries with the decline code.
    const inbox = (await readSesInbox(t.runtime.urls.ses)).filter((m) => m.to.includes(subscriber.email));
    for (const email of inbox) expect(shown.stdout).toMatch(new RegExp(`notice_sent\\s+\\S+\\s+.*${email.messageId}`));
    expect(shown.stdout).toMatch(/event_received\s+invoice\.payment_failed\s+evt_\w+/);
    expect(shown.stdout).toMatch(/retry_declined\s+Retry1\s+generic_decline/);
    expect(shown.stdout).toMatch(/retry_paid\s+Operator/);

    const again = await dunning([...local, 'retry-now', id]);
    expect(again).toMatchObject({ code: 1, stdout: '' });
    expect(again.stderr).toBe(`dunning: ${id}: the case is recovered. There is nothing to charge.\n`);
  });

  it('closes a case with the operator\'s reason and stops its execution', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Closed Clara');
    // Held between Notice1 and what follows it while the operator closes the case: a close that
    // lands during a running stage ends the execution through CaseClosed instead (the stage sees the
    // case closed first), which is another test's subject.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let notice1Done = false;
    t.onStage(subscriber.customerId, async ({ state, error }) => {
      if (state !== 'Notice1' || error) return;
      notice1Done = true;
      await held;
    });
    await renew(t.stripe, subscriber);
    const { invoiceId } = await opened(subscriber.subscriptionId);
    await waitFor(async () => notice1Done, 10_000, 'Notice1');

    const closed = await dunning([...local, 'close', invoiceId, '--reason', 'refunded by support']);
    release();

    expect(closed).toMatchObject({ code: 0, stderr: '' });
    expect(await t.runtime.store.getCase(invoiceId)).toMatchObject({ status: 'closed', closedReason: 'closed by operator: refunded by support' });
    expect(t.runtime.stepFunctions.executions.get(executionArnFor(LOCAL_STATE_MACHINE_ARN, invoiceId))?.status).toBe('ABORTED');
    expect(await t.runtime.store.getBanner(subscriber.customerId)).toBeUndefined();
    const noReason = await dunning([...local, 'close', invoiceId]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/^dunning: close needs --reason TEXT/);
  });

  it('replays a Stripe event whose delivery was lost, by id and from a file, through the router', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Replayed Rita');
    // Paused, so no stage looks at Stripe and finds the payment before the replay does.
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state === 'Notice1' && !error) await pauseCase({ store: t.runtime.store, clock: systemClock, log: silentLog }, dunningCase);
    });
    await renew(t.stripe, subscriber);
    const { invoiceId } = await waitFor(async () => {
      const found = await caseFor(t.runtime, subscriber.subscriptionId);
      return found?.pausedUntil ? found : undefined;
    }, 10_000, 'the paused case');
    // The customer pays on the hosted page, and Stripe's invoice.paid never arrives.
    await withDeliveriesPaused(t.runtime, async () => {
      const card = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: subscriber.customerId });
      await t.stripe.invoices.pay(invoiceId, { payment_method: card.id });
    });
    const paid = JSON.parse(await latestEvent(t.stripe, 'invoice.paid', invoiceId)) as { id: string };

    const byId = await dunning([...local, 'replay', paid.id]);

    expect(byId).toMatchObject({ code: 0, stderr: '' });
    expect(byId.stdout).toBe(`${paid.id} (invoice.paid): case_recovered invoiceId=${invoiceId}\n`);
    expect(await t.runtime.store.getCase(invoiceId)).toMatchObject({ status: 'recovered', recoveredBy: 'customer_payment' });
    // The timeline tells the operator's replay apart from a delivery by Stripe.
    const replayed = (await t.runtime.store.listTimeline(invoiceId)).filter((e) => e.eventId === paid.id);
    expect(replayed).toEqual([expect.objectContaining({ type: 'event_replayed', detail: 'invoice.paid (replayed by operator)' })]);
    expect((await dunning([...local, 'case', invoiceId])).stdout).toMatch(new RegExp(`event_replayed\\s+invoice\\.paid \\(replayed by operator\\)\\s+${paid.id}`));
    // The same event again, from a file: no dedupe, and the router changes nothing that has moved on.
    const file = join(await mkdtemp(join(tmpdir(), 'dunning-cli-')), 'event.json');
    await writeFile(file, await latestEvent(t.stripe, 'invoice.paid', invoiceId));
    const fromFile = await dunning([...local, 'replay', file]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toMatch(/^evt_\w+ \(invoice\.paid\): (case_exists|ignored)/);
    expect((await subjectsTo(t.runtime, subscriber.email)).filter((s) => s === SUBJECTS.recovered)).toHaveLength(1);
  });

  it('lifts an email suppression with the operator\'s reason: the record goes, the case flag comes off, the timeline says why', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Bounced Bea');
    await renew(t.stripe, subscriber);
    const { invoiceId } = await opened(subscriber.subscriptionId);
    const at = new Date().toISOString();
    // As record-email-event leaves it after a hard bounce.
    await t.runtime.store.suppressEmail(addressKey(subscriber.email), { reason: 'bounce', at, detail: 'Permanent/General', invoiceId });
    await t.runtime.store.flagEmailSuppressed(invoiceId, { reason: 'bounce', at });

    const noReason = await dunning([...local, 'unsuppress', subscriber.email]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/^dunning: unsuppress needs --reason TEXT/);
    expect(await t.runtime.store.getEmailSuppression(addressKey(subscriber.email))).toBeDefined();

    const lifted = await dunning([...local, 'unsuppress', subscriber.email.toUpperCase(), '--reason', 'customer fixed the mailbox, ticket 88']);

    expect(lifted).toMatchObject({ code: 0, stderr: '' });
    expect(lifted.stdout).toContain(`${subscriber.email.toUpperCase()}: suppression lifted (it followed a hard bounce on `);
    expect(lifted.stdout).toContain(`cleared on ${invoiceId}`);
    expect(lifted.stdout).toContain('aws sesv2 delete-suppressed-destination');
    expect(await t.runtime.store.getEmailSuppression(addressKey(subscriber.email))).toBeUndefined();
    expect((await t.runtime.store.getCase(invoiceId))?.emailSuppressed).toBeUndefined();
    expect(await t.runtime.store.listTimeline(invoiceId)).toContainEqual(
      expect.objectContaining({ type: 'email_unsuppressed', detail: 'by operator: customer fixed the mailbox, ticket 88 (was: bounce)' }),
    );

    const again = await dunning([...local, 'unsuppress', subscriber.email, '--reason', 'twice']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`^dunning: ${subscriber.email.replace('.', '\\.')}: dunning does not suppress this address`));
    expect((await dunning([...local, 'unsuppress', invoiceId, '--reason', 'x'])).code).toBe(2);
  });

  it('reports the funnel, the recovery rate and the recovered revenue from the cases', async () => {
    const cases = await t.runtime.store.listCases();
    const recovered = cases.filter((c) => c.status === 'recovered').length;

    const run = await dunning([...local, 'report', '--since', '2000-01-01']);

    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`Cases opened since 2000-01-01T00:00:00.000Z: ${cases.length}`);
    expect(run.stdout).toMatch(new RegExp(`^opened\\s+${cases.length}\\s+100\\.0%`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^reached Notice1\\s+${cases.filter((c) => c.noticesSent.includes('Notice1')).length}\\s`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^recovered\\s+${recovered}\\s`, 'm'));
    expect(run.stdout).toMatch(/^Recovery rate: \d+\.\d%/m);
    expect(run.stdout).toMatch(new RegExp(`^GBP\\s+£${(recovered * 15).toFixed(2)}$`, 'm'));
    const future = await dunning([...local, 'report', '--since', '2999-01-01']);
    expect(future.stdout).toContain('Cases opened since 2999-01-01T00:00:00.000Z: 0');
  });
});

describe('dunning redrive', () => {
  const PAY = /^\/v1\/invoices\/[^/]+\/pay$/;

  it('refuses a running execution, then redrives the failed one once the cause is fixed, and the case goes on', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Redriven Rosa');
    let running: CliRun | undefined;
    t.onStage(subscriber.customerId, async ({ state, error, dunningCase }) => {
      if (state === 'Notice1' && !error && !running) {
        running = await dunning([...local, 'redrive', dunningCase.executionName]);
        // Stripe is down from here on: Retry1 fails for good.
        t.runtime.sandbox!.injectFault({ method: 'POST', path: PAY, status: 500, count: 1000 });
      }
    });
    await renew(t.stripe, subscriber);
    const flagged = await waitFor(async () => {
      const c = await caseFor(t.runtime, subscriber.subscriptionId);
      return c?.status === 'needs_attention' ? c : undefined;
    }, 30_000, 'the case to be flagged');
    t.runtime.sandbox!.clearFaults();

    const run = await dunning([...local, 'redrive', flagged.executionName]);
    const ended = await waitFor(async () => {
      const c = await caseFor(t.runtime, subscriber.subscriptionId);
      return c && c.status !== 'open' && c.status !== 'needs_attention' ? c : undefined;
    }, 60_000, 'the redriven case to end');
    // The case closes inside Terminate; the execution reaches Terminated just after.
    await t.runtime.stepFunctions.executions.get(flagged.executionArn!)!.done;
    const again = await dunning([...local, 'redrive', flagged.executionName]);

    expect(running).toEqual({
      code: 1,
      stdout: '',
      stderr: `dunning: ${flagged.executionName}: the execution is RUNNING, not failed; only a failed execution can be redriven\n`,
    });
    expect(run).toEqual({ code: 0, stderr: '', stdout: `${flagged.executionName}: redriven from Retry1; case ${flagged.invoiceId} is open again and its sequence goes on\n` });
    expect(ended.status).toBe('terminated');
    expect(again).toMatchObject({ code: 1, stderr: expect.stringMatching(/the execution is SUCCEEDED, not failed/) });
    const shown = await dunning([...local, 'case', flagged.invoiceId]);
    expect(shown.stdout).toMatch(/flagged\s+Retry1\s+Retry1 failed: StripeUnavailableError/);
    expect(shown.stdout).toMatch(/redriven\s+Operator\s+redriven by operator from Retry1/);
  });

  it('refuses to reopen a flagged case the customer has paid since', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Paid Before Redrive');
    t.onStage(subscriber.customerId, ({ state, error }) => {
      if (state === 'Notice1' && !error) t.runtime.sandbox!.injectFault({ method: 'POST', path: PAY, status: 500, count: 1000 });
    });
    await renew(t.stripe, subscriber);
    const flagged = await waitFor(async () => {
      const c = await caseFor(t.runtime, subscriber.subscriptionId);
      return c?.status === 'needs_attention' ? c : undefined;
    }, 30_000, 'the case to be flagged');
    t.runtime.sandbox!.clearFaults();
    await t.stripe.invoices.pay(flagged.invoiceId, { payment_method: 'pm_card_visa' });
    await waitFor(async () => (await caseFor(t.runtime, subscriber.subscriptionId))?.status === 'recovered', 10_000, 'the case to recover');

    const run = await dunning([...local, 'redrive', flagged.executionName]);

    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: `dunning: ${flagged.executionName}: the case ${flagged.invoiceId} is recovered; it is not reopened (a paid or ended case stays ended)\n`,
    });
    expect((await caseFor(t.runtime, subscriber.subscriptionId))?.status).toBe('recovered');
  });
});

describe('the operator CLI\'s errors', () => {
  it('says in one line what is wrong, with a non-zero exit', async () => {
    expect(await dunning([...local, 'case', 'in_doesnotexist'])).toEqual({ code: 1, stdout: '', stderr: 'dunning: in_doesnotexist: no dunning case for this invoice\n' });
    expect(await dunning([...local, 'case', 'cus_123'])).toMatchObject({ code: 2, stderr: 'dunning: cus_123: not an invoice id (in_…)\n' });
    expect(await dunning([...local, 'cases', '--status', 'lost'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--status lost: must be one of open, recovered/) });
    expect(await dunning([...local, 'pause', 'in_x', '--until', 'soon'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^dunning: --until soon: not a date/) });
    expect(await dunning([...local, 'frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^dunning: unknown command "frobnicate"/) });
    expect(await dunning([...local, 'redrive', 'in_nosuchexecution'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'dunning: in_nosuchexecution: no such execution of the dunning state machine (or older than Step Functions keeps)\n',
    });
    expect(await dunning([...local, 'redrive', 'not a name'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^dunning: not a name: not an execution name/) });
  });

  it('refuses a misspelt flag or an impossible date in one line, with the valid flags or the form of a date', async () => {
    expect(await dunning([...local, 'cases', '--stauts', 'open'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'dunning: unknown flag --stauts (did you mean --status?); valid flags: --local [URL], --stack NAME, --status STATUS, --until DATE, --reason TEXT, --since DATE, --html FILE, --decline-code CODE, --advice-code CODE, --network-advice-code NN, --brand BRAND, --time-zone ZONE, --country CC, --failed-at DATE, --policy FILE, --policy-name NAME, --invoice in_…, --mode live|test, --json, --verbose, --help\n',
    });
    // Date would take 2026-02-30 for 2 March and "1" for 2001: a report from the wrong day, silently.
    for (const since of ['2026-02-30', '1', 'last week']) {
      expect(await dunning([...local, 'report', '--since', since])).toEqual({
        code: 2,
        stdout: '',
        stderr: `dunning: --since ${since}: not a date; use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:00:00Z (a time needs its zone)\n`,
      });
    }
    expect(await dunning([...local, 'pause', 'in_x', '--until', '2026-03-01T09:00'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^dunning: --until 2026-03-01T09:00: not a date;[^\n]*\n$/) });
    // A report --html to a folder that is not there is refused before anything is read, naming it.
    expect(await dunning([...local, 'report', '--html', '/no/such/folder/report.html'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'dunning: --html /no/such/folder/report.html: no such folder /no/such/folder\n',
    });
    expect(await dunning([...local, 'report', '--html', tmpdir()])).toMatchObject({ code: 2, stderr: expect.stringMatching(new RegExp(`^dunning: --html ${tmpdir()}: ${tmpdir()} is a folder; name a file in it`)) });
    expect(await dunning([...local, 'cases', '--html', 'x.html'])).toMatchObject({ code: 2, stderr: 'dunning: --html is not a flag of cases; it goes with report\n' });
  });

  it('ends quietly with 0 when the reader of its output has gone (dunning case … | head)', async () => {
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Piped Petra');
    await renew(t.stripe, subscriber);
    const { invoiceId } = await opened(subscriber.subscriptionId);

    const child = spawn(process.execPath, [BIN, ...local, 'case', invoiceId], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader closes before the first line, so every line the case prints meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // Settled (closed here, unless its policy ended it already), so the tests that compare two
    // listings do not see it move between them.
    await dunning([...local, 'close', invoiceId, '--reason', 'piped test over']);
    expect((await caseFor(t.runtime, subscriber.subscriptionId))?.status).not.toBe('open');
  });

  it('names the flag to fix when the local runtime is not there', async () => {
    const run = await dunning(['--local', 'http://127.0.0.1:9', 'cases']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^dunning: no local runtime answers at http:\/\/127\.0\.0\.1:9 .*npm start.*--local/);
  });

  describe('against AWS', () => {
    // CloudFormation and Secrets Manager are faked, answering as AWS does; the stack's outputs point
    // at the local runtime's table and state machine, reached through AWS_ENDPOINT_URL_* as any
    // other endpoint would be. Everything after discovery is the code that runs against AWS.
    let fake: Server;
    let endpoint: string;
    /** PutMetricData calls the fake CloudWatch took, and whether it should refuse the next ones. */
    const putMetricData: Array<{ Namespace: string; MetricData: Array<{ MetricName: string; Dimensions: Array<{ Name: string; Value: string }>; Value: number; Unit: string }> }> = [];
    let cloudWatchDown = false;
    const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:stripe-api-key-AbCdEf';
    const LINK_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:link-key-AbCdEf';
    beforeAll(async () => {
      const outputs: Record<string, string> = {
        [OPERATOR_OUTPUTS.tableName]: t.runtime.config.tableName,
        [OPERATOR_OUTPUTS.stateMachineArn]: LOCAL_STATE_MACHINE_ARN,
        [OPERATOR_OUTPUTS.stripeApiKeySecretArn]: SECRET_ARN,
        [OPERATOR_OUTPUTS.linkSigningKeySecretArn]: LINK_KEY_ARN,
        [OPERATOR_OUTPUTS.linkBaseUrl]: t.runtime.urls.app,
        [OPERATOR_OUTPUTS.sender]: 'billing@acme.test',
        [OPERATOR_OUTPUTS.configurationSet]: 'dunning',
        // What `cdk deploy` deployed: the policy file as written (the local runtime's own copy has
        // its local URLs moved to where it listens).
        [OPERATOR_OUTPUTS.policySha256]: policyDigest(loadPolicySetFile(t.runtime.policyFile)),
      };
      const secrets: Record<string, string> = { [SECRET_ARN]: t.runtime.stripeApiKey, [LINK_KEY_ARN]: t.runtime.config.linkSigningKey };
      fake = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          // CloudWatch speaks AWS JSON 1.0.
          if (String(req.headers['x-amz-target']) === 'GraniteServiceVersion20100801.PutMetricData') {
            if (cloudWatchDown) {
              res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
              res.end(JSON.stringify({ __type: 'InternalServiceFault', message: 'Internal service error' }));
              return;
            }
            putMetricData.push(JSON.parse(body));
            res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
            res.end('{}');
            return;
          }
          if (String(req.headers['x-amz-target']) === 'secretsmanager.GetSecretValue') {
            const { SecretId } = JSON.parse(body) as { SecretId: string };
            res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
            res.end(JSON.stringify({ ARN: SecretId, Name: 'secret', SecretString: secrets[SecretId], VersionId: 'v1', VersionStages: ['AWSCURRENT'] }));
            return;
          }
          const stackName = new URLSearchParams(body).get('StackName');
          if (stackName !== 'Dunning') {
            res.writeHead(400, { 'content-type': 'text/xml' });
            res.end(`<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${stackName} does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>`);
            return;
          }
          const members = Object.entries(outputs).map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`).join('');
          res.writeHead(200, { 'content-type': 'text/xml' });
          res.end(`<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>Dunning</StackName><StackId>arn:aws:cloudformation:eu-west-1:123456789012:stack/Dunning/1</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>`);
        });
      });
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => fake.close(() => resolve())));

    const awsEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_EC2_METADATA_DISABLED: 'true' };
      return { ...env, ...extra };
    };
    const deployed = (extra: Record<string, string> = {}) =>
      awsEnv({
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'x',
        AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
        AWS_ENDPOINT_URL_CLOUDWATCH: endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: t.runtime.urls.dynamodb,
        AWS_ENDPOINT_URL_SESV2: t.runtime.urls.ses,
        AWS_ENDPOINT_URL_SFN: t.runtime.urls.stepFunctions,
        // Stripe itself: the sandbox, as the functions' own STRIPE_API_BASE would point them.
        STRIPE_API_BASE: t.runtime.urls.stripe,
        ...extra,
      });

    it('finds the stack through CloudFormation and reads the same cases as --local', async () => {
      const fromStack = await dunning(['cases'], deployed());
      const fromLocal = await dunning([...local, 'cases']);

      expect(fromStack).toMatchObject({ code: 0, stderr: '' });
      // The same cases. A stack reads their times as stored, on the wall clock, and says nothing of
      // clocks; --local reads them in each case's own (compressed days, Stripe's test clocks).
      const invoiceIds = (out: string) => [...out.matchAll(/^(in_\w+)/gm)].map((m) => m[1]);
      expect(invoiceIds(fromStack.stdout)).toEqual(invoiceIds(fromLocal.stdout));
      expect(fromStack.stdout).not.toMatch(/times are in/);
      expect(fromLocal.stdout).toMatch(/^times are in each case's own clock/);
      const [someCase] = await t.runtime.store.listCases();
      if (someCase) {
        expect(fromStack.stdout).toContain(someCase.invoiceId);
        const shownByStack = (await dunning(['case', someCase.invoiceId], deployed())).stdout;
        expect(shownByStack).toMatch(/^invoice\s+in_/);
        expect(shownByStack).toContain(`opened        ${someCase.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`);
        expect((await dunning([...local, 'case', someCase.invoiceId])).stdout).toMatch(/^times are in the test clock of the case/);
      }
    });

    it('publishes what retry-now counted to CloudWatch, as the functions would: a recovery counts on the dashboard', async () => {
      const subscriber = await subscribeWithDecliningCard(t.stripe, 'Metered Mia');
      await renew(t.stripe, subscriber);
      const { invoiceId } = await opened(subscriber.subscriptionId);
      await waitFor(async () => (await t.runtime.store.getCase(invoiceId))?.executionArn, 10_000, 'the execution');
      // Paused, so that only the operator's retry-now charges the working card. On the wall clock
      // (30 real days), not through the local CLI, whose cap is 30 policy days: 9 s here, which a
      // slow machine can outlast before retry-now runs.
      await pauseCase({ store: t.runtime.store, clock: systemClock, log: silentLog }, (await t.runtime.store.getCase(invoiceId))!);
      await withDeliveriesPaused(t.runtime, () => putInWorkingCard(t.stripe, subscriber.customerId));
      putMetricData.length = 0;

      // Deliveries paused too: the invoice.paid the charge causes would otherwise race the CLI to
      // record the recovery (the webhook closes the case as well), and this test is about the CLI's.
      const retried = await withDeliveriesPaused(t.runtime, () => dunning(['retry-now', invoiceId], deployed()));

      expect(retried).toMatchObject({ code: 0, stderr: '' });
      expect(putMetricData).toHaveLength(1);
      expect(putMetricData[0]!.Namespace).toBe('Dunning');
      const sent = putMetricData[0]!.MetricData.map((d) => ({
        name: d.MetricName,
        dimensions: Object.fromEntries(d.Dimensions.map((x) => [x.Name, x.Value])),
        value: d.Value,
        unit: d.Unit,
      }));
      expect(sent).toEqual(
        expect.arrayContaining([
          { name: 'RetryAttempted', dimensions: { service: 'dunning' }, value: 1, unit: 'Count' },
          { name: 'RetrySucceeded', dimensions: { service: 'dunning' }, value: 1, unit: 'Count' },
          { name: 'CaseRecovered', dimensions: { service: 'dunning', RecoveredBy: 'workflow_retry' }, value: 1, unit: 'Count' },
          { name: 'RecoveredAmount', dimensions: { service: 'dunning', Currency: 'GBP' }, value: 1500, unit: 'None' },
        ]),
      );
    });

    it('still acts when CloudWatch refuses its metrics, and says the dashboard will miss them', async () => {
      const subscriber = await subscribeWithDecliningCard(t.stripe, 'Unmetered Uma');
      await renew(t.stripe, subscriber);
      const { invoiceId } = await opened(subscriber.subscriptionId);
      await waitFor(async () => (await t.runtime.store.getCase(invoiceId))?.executionArn, 10_000, 'the execution');
      cloudWatchDown = true;
      try {
        const closed = await dunning(['close', invoiceId, '--reason', 'goodwill'], deployed());

        expect(closed.code).toBe(0);
        expect(closed.stderr).toMatch(/^dunning: warning: the action is done, but its metrics did not reach CloudWatch \(InternalServiceFault/);
        expect(await t.runtime.store.getCase(invoiceId)).toMatchObject({ status: 'closed' });
      } finally {
        cloudWatchDown = false;
      }
    });

    it('refuses to act with a policy file that is not the deployed one', async () => {
      const file = join(await mkdtemp(join(tmpdir(), 'dunning-cli-')), 'policy.json');
      await writeFile(file, JSON.stringify(shortPolicy()));
      const run = await dunning(['cases'], deployed({ DUNNING_POLICY_FILE: file }));
      expect(run.code).toBe(3);
      expect(run.stderr).toBe(`dunning: the policy in ${file} is not the one stack Dunning runs: set DUNNING_POLICY_FILE to the policy file you deployed with\n`);
    });

    it('asks for credentials when there are none', async () => {
      const run = await dunning(['cases'], awsEnv({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint }));
      expect(run).toMatchObject({ code: 3, stdout: '' });
      expect(run.stderr).toMatch(/^dunning: no AWS credentials: set AWS_PROFILE \(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\), or use --local/);
    });

    it('asks for a region when there is none', async () => {
      const run = await dunning(['cases'], awsEnv({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x' }));
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/^dunning: no AWS region: set AWS_REGION/);
    });

    it('names the stack and region when the stack is missing', async () => {
      const run = await dunning(['--stack', 'Dunnning', 'report'], deployed());
      expect(run.code).toBe(3);
      expect(run.stderr).toBe("dunning: stack Dunnning does not exist in eu-west-1: pass --stack NAME or set AWS_REGION to the stack's region (or deploy it: npx cdk deploy)\n");
    });
  });
});
