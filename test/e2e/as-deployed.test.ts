// The local runtime runs the stack as `cdk deploy` creates it: a grant a construct forgets, a
// condition it gets wrong, or a variable it does not set fails locally as it would in AWS. Each
// case takes one thing out of the synthesized template and watches what AWS would refuse.
import { afterEach, describe, expect, it } from 'vitest';
import type { Template } from '#local/aws/intrinsics.ts';
import { closedCase, renew, startTestRuntime, subscribeWithDecliningCard, waitFor, type TestRuntime } from '../fixtures/scenario.ts';

let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

type Statement = { Action?: string | string[]; Resource?: unknown; Condition?: Record<string, Record<string, string>> };

/** The function resource whose Powertools service name is `name`. */
function functionNamed(template: Template, name: string) {
  const found = Object.entries(template.Resources).find(
    ([, r]) => r.Type === 'AWS::Lambda::Function' && (r.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables?.POWERTOOLS_SERVICE_NAME === name,
  );
  if (!found) throw new Error(`no function ${name} in the template`);
  return found[1];
}

/** The statements of the policies attached to the role whose logical id is `roleId`. */
function statementsOf(template: Template, roleId: string): Statement[] {
  return Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties?.Roles as Array<{ Ref?: string }>).some((role) => role.Ref === roleId))
    .flatMap((r) => (r.Properties!.PolicyDocument as { Statement: Statement[] }).Statement);
}

function roleIdOf(template: Template, functionName: string): string {
  return (functionNamed(template, functionName).Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

/** Takes out of `roleId`'s policies every statement that `matches`; fails if none did. */
function removeStatements(template: Template, roleId: string, matches: (statement: Statement) => boolean): void {
  let removed = 0;
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy' || !(resource.Properties?.Roles as Array<{ Ref?: string }>).some((role) => role.Ref === roleId)) continue;
    const document = resource.Properties!.PolicyDocument as { Statement: Statement[] };
    const kept = document.Statement.filter((statement) => !matches(statement));
    removed += document.Statement.length - kept.length;
    document.Statement = kept;
  }
  if (removed === 0) throw new Error(`no statement of ${roleId} matched`);
}

const actions = (statement: Statement) => [statement.Action ?? []].flat();
const bannerOf = (runtime: TestRuntime['runtime'], customerId: string) =>
  fetch(`${runtime.urls.app}/customers/${customerId}/notice`, { headers: { authorization: `Bearer ${runtime.config.bannerToken}` } });

/** The function's ERROR log lines, parsed. */
const errorsOf = (runtime: TestRuntime, functionName: string) =>
  runtime.logs
    .filter((l) => l.functionName === functionName && l.line.startsWith('{"level":"ERROR"'))
    .map((l) => JSON.parse(l.line) as { message: string; error?: { name: string; message: string } });

describe('a function whose role lacks a statement', () => {
  it("is refused by IAM locally, as in AWS: get-notice without its read on the table answers 502, logging AccessDeniedException", async () => {
    t = await startTestRuntime({
      dayMs: 60_000,
      transformTemplate: (template) => removeStatements(template, roleIdOf(template, 'get-notice'), (s) => actions(s).some((a) => a.startsWith('dynamodb:'))),
      expectAlarms: ['GetNoticeErrors'],
    });

    const response = await bannerOf(t.runtime, 'cus_NoBannerRead');

    expect(response.status).toBe(502);
    const [logged] = errorsOf(t, 'get-notice');
    expect(logged?.error).toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringMatching(
        /^User: arn:aws:sts::000000000000:assumed-role\/\w+\/get-notice is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table\/dunning-local because no identity-based policy allows the dynamodb:GetItem action$/,
      ),
    });
    expect(t.runtime.iamUsage.snapshot.denied['get-notice']).toEqual([expect.stringMatching(/^dynamodb:GetItem: User: .* is not authorized/)]);
  });

  it('with its ses:FromAddress condition naming another sender, cannot send: the stage fails and the case is flagged', async () => {
    t = await startTestRuntime({
      dayMs: 100,
      transformTemplate: (template) => {
        for (const statement of statementsOf(template, roleIdOf(template, 'send-notice'))) {
          if (statement.Condition?.StringEquals?.['ses:FromAddress']) statement.Condition.StringEquals['ses:FromAddress'] = 'someone-else@acme.test';
        }
      },
      expectAlarms: ['SendNoticeErrors', 'ExecutionsFailed', 'NeedsAttention'],
    });
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Wrong Sender Grant');

    await renew(t.stripe, subscriber);
    const flagged = await closedCase(t.runtime, subscriber.subscriptionId);

    expect(flagged).toMatchObject({ status: 'needs_attention', stage: 'Notice1', error: { name: 'AccessDeniedException' } });
    expect(flagged.error?.message).toMatch(/is not authorized to perform: ses:SendEmail on resource: arn:aws:ses:us-east-1:000000000000:identity\/billing@acme\.test/);
  });
});

describe("the state machine's role", () => {
  it('is checked for each function a Task invokes: without lambda:InvokeFunction on retry-payment, Retry1 fails and the case is flagged', async () => {
    t = await startTestRuntime({
      dayMs: 100,
      transformTemplate: (template) => {
        const machine = Object.values(template.Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine')!;
        const roleId = (machine.Properties!.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        const retryId = Object.entries(template.Resources).find(([, r]) => r === functionNamed(template, 'retry-payment'))![0];
        for (const statement of statementsOf(template, roleId)) {
          if (!actions(statement).includes('lambda:InvokeFunction')) continue;
          statement.Resource = [statement.Resource].flat().filter((resource) => !JSON.stringify(resource).includes(`"${retryId}"`));
        }
      },
      expectAlarms: ['ExecutionsFailed', 'NeedsAttention'],
    });
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Cannot Invoke Retry');

    await renew(t.stripe, subscriber);
    const flagged = await closedCase(t.runtime, subscriber.subscriptionId);

    expect(flagged).toMatchObject({ status: 'needs_attention', error: { name: 'Lambda.AWSLambdaException' } });
    const flaggedAt = await waitFor(async () => (await t!.runtime.store.listTimeline(flagged.invoiceId)).find((e) => e.type === 'flagged'), 5_000, 'the flag');
    expect(flaggedAt.stage).toBe('Retry1');
    expect(flagged.error?.message).toMatch(/is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:retry-payment/);
    // Notice1 went out: only the invocation the role does not allow failed.
    expect(t.runtime.iamUsage.snapshot.allowed['state-machine']?.['lambda:InvokeFunction']).toBeGreaterThan(0);
  });
});

describe('a function whose template environment lacks a variable', () => {
  it('lacks it locally too: send-notice without DUNNING_SENDER cannot send Notice1', async () => {
    t = await startTestRuntime({
      dayMs: 100,
      transformTemplate: (template) => {
        const variables = (functionNamed(template, 'send-notice').Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
        delete variables.DUNNING_SENDER;
      },
      expectAlarms: ['SendNoticeErrors', 'ExecutionsFailed', 'NeedsAttention'],
    });
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'No Sender Variable');

    await renew(t.stripe, subscriber);
    const flagged = await closedCase(t.runtime, subscriber.subscriptionId);

    expect(flagged).toMatchObject({ status: 'needs_attention', stage: 'Notice1' });
    expect(flagged.error?.message).toMatch(/DUNNING_SENDER is not set for this function/);
    await waitFor(async () => errorsOf(t!, 'send-notice').length > 0, 5_000, "send-notice's error line");
  });
});

describe('an asynchronous invocation that fails every retry', () => {
  it("lands in the function's dead-letter queue, sent with its role, and the queue's alarm moves: flag-case without the table", async () => {
    t = await startTestRuntime({
      dayMs: 100,
      transformTemplate: (template) => removeStatements(template, roleIdOf(template, 'flag-case'), (s) => actions(s).some((a) => a.startsWith('dynamodb:'))),
      // Stripe down for good fails the execution; flag-case cannot flag its case.
      expectAlarms: ['RetryPaymentErrors', 'ExecutionsFailed', 'FlagCaseErrors', 'FailedExecutionsDeadLetterQueueNotEmpty'],
    });
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Flagger Without Table');
    t.onStage(subscriber.customerId, ({ state, error }) => {
      if (state === 'Notice1' && !error) t!.runtime.sandbox!.injectFault({ method: 'POST', path: /^\/v1\/invoices\/[^/]+\/pay$/, status: 500, count: 1000 });
    });

    await renew(t.stripe, subscriber);
    const dead = await waitFor(
      async () => t!.runtime.alarms().find((a) => a.id === 'FailedExecutionsDeadLetterQueueNotEmpty' && a.state === 'ALARM'),
      20_000,
      'the failed event in the dead-letter queue',
    );
    t.runtime.sandbox!.clearFaults();

    expect(dead.value).toBe(1);
    // Flagging failed three times (the invocation and Lambda's two retries): the case was not flagged.
    expect(t.runtime.alarms().find((a) => a.id === 'FlagCaseErrors')?.value).toBe(3);
    expect(t.runtime.alarms().find((a) => a.id === 'NeedsAttention')?.value).toBe(0);
    expect(t.runtime.iamUsage.snapshot.allowed['flag-case']?.['sqs:SendMessage']).toBe(1);
  });
});

describe('the open-cases gauge', () => {
  it('counts the open cases by stage through the openCases index it may query, as its schedule invokes it', async () => {
    t = await startTestRuntime({ dayMs: 60_000 });
    const subscriber = await subscribeWithDecliningCard(t.stripe, 'Counted Open');
    await renew(t.stripe, subscriber);
    await waitFor(async () => (await t!.runtime.store.listOpenCases()).some((c) => c.stage === 'Notice1'), 10_000, 'an open case at Notice1');

    const count = await t.runtime.lambda.invoke<{ total: number }>('count-open-cases', {
      version: '0',
      id: 'scheduled',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: {},
    });

    expect(count.total).toBe(1);
    expect(t.runtime.metrics.data).toContainEqual(
      expect.objectContaining({ namespace: 'Dunning', name: 'OpenCases', dimensions: { service: 'dunning', Stage: 'Notice1' }, value: 1 }),
    );
    expect(Object.keys(t.runtime.iamUsage.snapshot.allowed['count-open-cases'] ?? {}).sort()).toEqual(['dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents']);
  });
});
