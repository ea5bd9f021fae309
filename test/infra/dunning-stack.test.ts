// The deployable stack with the default policy, synthesized once with real esbuild bundling: what
// gets deployed, who may do what, and what cdk-nag thinks of it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_KEYS } from '#shared/adapters/table.ts';
import { ENV } from '#shared/config.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import { buildDefinition, type StateMachineDefinition } from '#shared/workflow/definition.ts';
import {
  acknowledgedFindings,
  actionsOf,
  definitionOf,
  functionLogicalId,
  roleOfFunction,
  statementsOfRole,
  synthDunningStack,
  type PolicyStatementJson,
  type Synthesized,
} from './synth.ts';

const FUNCTIONS = ['handle-webhook', 'route-events', 'send-notice', 'retry-payment', 'close-case', 'get-notice', 'open-payment-link', 'record-email-event', 'count-open-cases', 'flag-case', 'publish-events', 'get-access'] as const;
const THIRTY_DAYS = 30;

let synth: Synthesized;
let template: Template;
let definition: StateMachineDefinition;

// Bundles all 13 functions with esbuild: over the default hook timeout on a shared, busy machine.
const BUNDLED_SYNTH_TIMEOUT_MS = 240_000;

beforeAll(() => {
  synth = synthDunningStack({ bundle: true });
  template = synth.template;
  definition = definitionOf(template);
}, BUNDLED_SYNTH_TIMEOUT_MS);

const statementsOf = (name: string): PolicyStatementJson[] =>
  statementsOfRole(template, roleOfFunction(template, functionLogicalId(template, name)));

const allStatements = (): PolicyStatementJson[] =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => (policy as { Properties: { PolicyDocument: { Statement: PolicyStatementJson[] } } }).Properties.PolicyDocument.Statement,
  );

describe('DunningStateMachine', () => {
  it('is a Standard state machine that logs everything, with execution data, and is traced', () => {
    const logGroup = new Capture();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroup, 'Arn'] } } }],
      },
    });
    expect(template.toJSON().Resources[logGroup.asString()].Properties.RetentionInDays).toBe(THIRTY_DAYS);
  });

  it('deploys exactly the states buildDefinition generates from the policy', () => {
    const expected = buildDefinition(loadPolicyFile(), { sendNotice: 'a', retryPayment: 'b', closeCase: 'c' });

    expect(Object.keys(definition.States).sort()).toEqual(Object.keys(expected.States).sort());
    expect(definition.StartAt).toBe(expected.StartAt);
    expect(definition.TimeoutSeconds).toBe(expected.TimeoutSeconds);
  });

  it('waits for the first retry until the moment Notice1 gives, then retries', () => {
    expect(definition.States.WaitBeforeRetry1).toMatchObject({
      Type: 'Wait',
      TimestampPath: '$.notice.waitUntil',
      Next: 'Retry1',
    });
    expect(definition.States.Notice1).toMatchObject({ Type: 'Task', Next: 'Notice1StoodDown' });
    expect(definition.States.Notice1StoodDown).toMatchObject({ Type: 'Choice', Default: 'WaitBeforeRetry1' });
  });

  it('invokes the stage function each Task state stands for', () => {
    const token = (name: string) => `\${Token[${functionLogicalId(template, name)}]}`;

    expect(definition.States.Notice1).toMatchObject({ Resource: token('send-notice') });
    expect(definition.States.Retry1).toMatchObject({ Resource: token('retry-payment') });
    expect(definition.States.Terminate).toMatchObject({ Resource: token('close-case') });
    expect(definition.States.RecoverCase).toMatchObject({ Resource: token('close-case') });
  });
});

describe('DunningWorkflow grants (least privilege)', () => {
  it('lets the state machine invoke the three stage functions and nothing else', () => {
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
      Properties: { RoleArn: { 'Fn::GetAtt': [string, string] } };
    };
    const invoke = statementsOfRole(template, machine.Properties.RoleArn['Fn::GetAtt'][0]).filter((s) =>
      [s.Action].flat().some((action) => action.startsWith('lambda:')),
    );

    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.Action).toBe('lambda:InvokeFunction');
    const resources = [invoke[0]?.Resource].flat() as Array<{ 'Fn::GetAtt': [string, string] }>;
    expect(resources.map((r) => r['Fn::GetAtt'][0]).sort()).toEqual(
      ['send-notice', 'retry-payment', 'close-case'].map((name) => functionLogicalId(template, name)).sort(),
    );
  });

  it('does not let retry-payment send email', () => {
    expect(actionsOf(statementsOf('retry-payment')).filter((action) => action.startsWith('ses:'))).toEqual([]);
  });

  it('lets send-notice, close-case and the router behind the webhook send email, and not the webhook itself', () => {
    expect(actionsOf(statementsOf('handle-webhook'))).not.toContain('ses:SendEmail');
    for (const name of ['send-notice', 'close-case', 'route-events']) {
      expect(actionsOf(statementsOf(name)), name).toContain('ses:SendEmail');
    }
  });

  it('gives get-notice GetItem on the table and nothing else of value: the banner API never writes', () => {
    const actions = actionsOf(statementsOf('get-notice'));

    expect(actions.filter((action) => action.startsWith('dynamodb:'))).toEqual(['dynamodb:GetItem']);
    expect(actions.filter((a) => /^(ses|secretsmanager|states):/.test(a))).toEqual([]);
  });

  it('grants each function the item actions its use cases make, on the table itself, and Query only on the index it reads', () => {
    const dynamo = (name: string) =>
      statementsOf(name)
        .filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')))
        .map((s) => ({ actions: [s.Action].flat().sort(), resource: JSON.stringify(s.Resource) }));
    const items = ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
    const onTable = (resource: string) => /^\{"Fn::GetAtt":\["DunningStore\w+","Arn"\]\}$/.test(resource);
    const onIndex = (index: string) => (resource: string) => resource.includes(`/index/${index}`) && !resource.includes('index/*');

    expect(dynamo('handle-webhook')).toEqual([]);
    for (const name of ['send-notice', 'retry-payment', 'close-case', 'record-email-event', 'route-events']) {
      const grants = dynamo(name);
      expect(grants.filter((g) => onTable(g.resource)).map((g) => g.actions), name).toEqual([items]);
      const queries = grants.filter((g) => !onTable(g.resource));
      if (name === 'route-events') {
        expect(queries.map((g) => g.actions), name).toEqual([['dynamodb:Query']]);
        expect(onIndex('casesByCustomer')(queries[0]!.resource), name).toBe(true);
      } else {
        expect(queries, name).toEqual([]);
      }
    }
    expect(dynamo('flag-case').map((g) => g.actions)).toEqual([['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']]);
    const others = FUNCTIONS.filter((name) => name !== 'publish-events').flatMap((name) => statementsOf(name));
    const noBatchScanOrStream = actionsOf(others).filter((a) => /^dynamodb:(Batch|Scan|Describe|GetRecords|GetShardIterator|ListStreams|ConditionCheck)/.test(a));
    expect(noBatchScanOrStream).toEqual([]);
    // Only the outbox relay reads the stream, and only the table's own stream.
    const stream = statementsOf('publish-events').filter((s) => [s.Action].flat().some((a) => /^dynamodb:(DescribeStream|GetRecords|GetShardIterator)$/.test(a)));
    expect(stream.length).toBeGreaterThan(0);
    for (const statement of stream) expect(JSON.stringify(statement.Resource)).toMatch(/DunningStore\w+","StreamArn"/);
    expect(dynamo('publish-events').filter((g) => onTable(g.resource)).map((g) => g.actions)).toEqual([['dynamodb:GetItem', 'dynamodb:UpdateItem']]);
    // Reads, and the request budget's counter (it lists the customer's subscriptions in Stripe).
    expect(dynamo('get-access').filter((g) => onTable(g.resource)).map((g) => g.actions)).toEqual([['dynamodb:GetItem'], ['dynamodb:UpdateItem']]);
  });

  it('scopes ses:SendEmail to the sender identity and configuration set, never "*"', () => {
    const send = allStatements().filter((s) => [s.Action].flat().includes('ses:SendEmail'));

    expect(send.length).toBe(3);
    for (const statement of send) {
      const resources = [statement.Resource].flat();
      expect(resources).not.toContain('*');
      const rendered = JSON.stringify(resources);
      expect(rendered).toContain(':identity/billing@acme.com');
      expect(rendered).toContain(':identity/acme.com');
      expect(rendered).toContain(':configuration-set/');
      expect(statement.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'billing@acme.com' } });
    }
  });

  it('lets only the router behind the webhook start the state machine, and stop or describe its executions; flag-case only reads them', () => {
    const withStates = FUNCTIONS.filter((name) => actionsOf(statementsOf(name)).some((a) => a.startsWith('states:')));
    expect(withStates).toEqual(['route-events', 'flag-case']);
    expect(actionsOf(statementsOf('flag-case')).filter((a) => a.startsWith('states:'))).toEqual(['states:DescribeExecution', 'states:GetExecutionHistory']);

    expect(actionsOf(statementsOf('route-events')).filter((a) => a.startsWith('states:'))).toEqual([
      'states:DescribeExecution',
      'states:StartExecution',
      'states:StopExecution',
    ]);
  });

  it('grants no service-wide wildcard actions such as dynamodb:*', () => {
    const wildcards = actionsOf(allStatements()).filter((action) => action.includes('*'));
    expect(wildcards).toEqual([]);
  });

  it('puts "*" resources only on X-Ray and log-delivery actions, which have no resource-level permissions', () => {
    const onStar = allStatements().filter((s) => [s.Resource].flat().includes('*'));
    // dynamodb:ListStreams is account-wide by design; the stream reader needs it to find the table's.
    for (const action of actionsOf(onStar)) expect(action).toMatch(/^(xray:|logs:|dynamodb:ListStreams$)/);
  });
});

describe('StripeSecrets', () => {
  it('leaves no secret value in the template', () => {
    const rendered = JSON.stringify(template.toJSON());

    expect(rendered).not.toMatch(/\b(sk|rk)_(live|test)_/);
    expect(rendered).not.toMatch(/whsec_[A-Za-z0-9]/);
    expect(rendered).not.toContain('"SecretString"');
    template.allResourcesProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({}),
      SecretString: Match.absent(),
    });
  });

  it('gives functions the secret ARNs, never the values', () => {
    const secretIds = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { Environment: { Variables: Record<string, unknown> } };
    }>;
    for (const { Properties } of functions) {
      const variables = Properties.Environment.Variables;
      for (const name of [ENV.stripeApiKeySecretArn, ENV.stripeWebhookSecretArn]) {
        const value = variables[name] as { Ref?: string } | undefined;
        if (value !== undefined) expect(secretIds).toContain(value.Ref);
      }
      expect(variables[ENV.stripeApiKey]).toBeUndefined();
      expect(variables[ENV.stripeWebhookSecret]).toBeUndefined();
    }
  });

  it('gives the webhook only the signing secret, the router only the Stripe key, and get-notice neither', () => {
    const variables = (name: string) =>
      template.toJSON().Resources[functionLogicalId(template, name)].Properties.Environment.Variables as Record<string, unknown>;

    expect(variables('handle-webhook')).toHaveProperty(ENV.stripeWebhookSecretArn);
    expect(variables('handle-webhook')).not.toHaveProperty(ENV.stripeApiKeySecretArn);
    expect(variables('route-events')).toHaveProperty(ENV.stripeApiKeySecretArn);
    expect(variables('route-events')).not.toHaveProperty(ENV.stripeWebhookSecretArn);
    expect(variables('get-notice')).not.toHaveProperty(ENV.stripeApiKeySecretArn);
    expect(variables('retry-payment')).not.toHaveProperty(ENV.stripeWebhookSecretArn);
  });
});

describe('DunningFunction', () => {
  it('runs every function on Node.js 22 or newer, arm64, with X-Ray active', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{
      Properties: { Runtime: string; Architectures: string[]; TracingConfig: { Mode: string } };
    }>;

    expect(functions).toHaveLength(FUNCTIONS.length);
    for (const { Properties } of functions) {
      const major = Number(/^nodejs(\d+)\.x$/.exec(Properties.Runtime)?.[1]);
      expect(major).toBeGreaterThanOrEqual(22);
      expect(Properties.Architectures).toEqual(['arm64']);
      expect(Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  it('logs each function to its own log group with a retention', () => {
    for (const name of FUNCTIONS) {
      const fn = template.toJSON().Resources[functionLogicalId(template, name)];
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays, name).toBe(THIRTY_DAYS);
    }
  });

  it('sets source maps and the Powertools variables, and the table on every function but the webhook, which reads none', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: Match.anyValue(),
          POWERTOOLS_METRICS_NAMESPACE: 'Dunning',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        }),
      },
    });
    for (const name of FUNCTIONS) {
      const variables = template.toJSON().Resources[functionLogicalId(template, name)].Properties.Environment.Variables;
      if (name === 'handle-webhook') expect(variables, name).not.toHaveProperty(ENV.tableName);
      else expect(variables[ENV.tableName], name).toEqual({ Ref: expect.any(String) });
    }
  });

  it('keeps the policy out of the environment (4 KB limit)', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.policyJson]: Match.absent() }) },
    });
  });

  it('bundles the policy into the code of every function that reads it', () => {
    const brand = `"productName":"${loadPolicyFile().brand.productName}"`;
    const bundling = (name: string) => ({ name, bundlesPolicy: bundledCode(name).includes(brand) });

    expect(FUNCTIONS.map(bundling)).toEqual([
      // Verifies and stores: the policy is the router's.
      { name: 'handle-webhook', bundlesPolicy: false },
      { name: 'route-events', bundlesPolicy: true },
      { name: 'send-notice', bundlesPolicy: true },
      { name: 'retry-payment', bundlesPolicy: true },
      { name: 'close-case', bundlesPolicy: true },
      { name: 'get-notice', bundlesPolicy: false },
      { name: 'open-payment-link', bundlesPolicy: true },
      { name: 'record-email-event', bundlesPolicy: false },
      { name: 'count-open-cases', bundlesPolicy: true },
      { name: 'flag-case', bundlesPolicy: false },
      // Events carry what the entry recorded; access is decided by each subscription's policy.
      { name: 'publish-events', bundlesPolicy: false },
      { name: 'get-access', bundlesPolicy: true },
    ]);
  });
});

describe('DunningStore', () => {
  it('is on-demand with point-in-time recovery, KMS encryption, TTL on expiration and pk/sk keys', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: TABLE_KEYS.ttlAttribute, Enabled: true },
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
    });
  });

  it('is retained when the stack is deleted', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('WebhookIngest', () => {
  it('exposes the webhook without AWS auth and without CORS, for Stripe', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      Cors: Match.absent(),
      TargetFunctionArn: { 'Fn::GetAtt': [functionLogicalId(template, 'handle-webhook'), 'Arn'] },
    });
  });
});

describe('NoticeApi', () => {
  it('exposes the notice API behind AWS_IAM', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [functionLogicalId(template, 'get-notice'), 'Arn'] },
    });
    // The notice API and the access API: both for the merchant's backend, never public.
    template.resourcePropertiesCountIs('AWS::Lambda::Url', { AuthType: 'AWS_IAM' }, 2);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [functionLogicalId(template, 'get-access'), 'Arn'] },
    });
  });

  it('is output next to the webhook URL, the update-payment link URL and the access API URL', () => {
    // The operator CLI's own outputs (OPERATOR_OUTPUTS) repeat the link URL under a fixed name.
    const outputs = Object.entries(template.findOutputs('*'))
      .filter(([name]) => !name.startsWith('Operator'))
      .map(([, output]) => output) as Array<{ Value: { 'Fn::GetAtt'?: [string, string] } }>;
    expect(outputs.filter((o) => o.Value['Fn::GetAtt']?.[1] === 'FunctionUrl')).toHaveLength(4);
  });
});

describe('UpdatePaymentLink', () => {
  const linkUrlId = () => {
    const urls = template.findResources('AWS::Lambda::Url', {
      Properties: { TargetFunctionArn: { 'Fn::GetAtt': [functionLogicalId(template, 'open-payment-link'), 'Arn'] } },
    });
    expect(Object.keys(urls)).toHaveLength(1);
    return Object.keys(urls)[0]!;
  };
  const variables = (name: string) =>
    template.toJSON().Resources[functionLogicalId(template, name)].Properties.Environment.Variables as Record<string, unknown>;
  const signingKeyId = () => (variables('open-payment-link')[ENV.linkSigningKeySecretArn] as { Ref: string }).Ref;

  it('serves GET /u/{token} from a public Function URL (the customer clicks it in an email), with no CORS', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      Cors: Match.absent(),
      TargetFunctionArn: { 'Fn::GetAtt': [functionLogicalId(template, 'open-payment-link'), 'Arn'] },
    });
    expect(linkUrlId()).toBeTruthy();
  });

  it('outputs the link URL', () => {
    const outputs = Object.values(template.findOutputs('*')) as Array<{ Value: { 'Fn::GetAtt'?: [string, string] } }>;
    expect(outputs.some((o) => o.Value['Fn::GetAtt']?.[0] === linkUrlId())).toBe(true);
  });

  it('signs links with a generated 64-character secret, whose value is not in the template', () => {
    const secret = template.toJSON().Resources[signingKeyId()];

    expect(secret.Type).toBe('AWS::SecretsManager::Secret');
    expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    expect(secret.Properties.SecretString).toBeUndefined();
  });

  it('gives the functions that send notices (send-notice, and the router: pre-dunning heads-ups, and notices under retries: "stripe") the link base URL and the signing key, and no other the key', () => {
    for (const name of ['send-notice', 'route-events']) {
      expect(variables(name)[ENV.linkBaseUrl], name).toEqual({ 'Fn::GetAtt': [linkUrlId(), 'FunctionUrl'] });
      expect(variables(name)[ENV.linkSigningKeySecretArn], name).toEqual({ Ref: signingKeyId() });
    }
    for (const name of ['retry-payment', 'close-case', 'get-notice', 'handle-webhook']) {
      expect(variables(name), name).not.toHaveProperty(ENV.linkSigningKeySecretArn);
    }
  });

  it('lets only the notice senders and the link function read the signing key', () => {
    const readers = FUNCTIONS.filter((name) =>
      statementsOf(name).some(
        (s) => [s.Action].flat().includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource).includes(signingKeyId()),
      ),
    );
    expect(readers.sort()).toEqual(['open-payment-link', 'route-events', 'send-notice']);
  });

  it('grants the link function GetItem and UpdateItem on the table, Query on casesByCustomer (a heads-up link finds its customer\'s cases), the Stripe key and the signing key, and no email or workflow', () => {
    const statements = statementsOf('open-payment-link');
    const actions = actionsOf(statements);

    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
    const query = statements.find((s) => [s.Action].flat().includes('dynamodb:Query'))!;
    expect(JSON.stringify(query.Resource)).toContain('/index/casesByCustomer');
    expect(actions.filter((a) => /^(ses|states):/.test(a))).toEqual([]);
    expect(variables('open-payment-link')).toHaveProperty(ENV.stripeApiKeySecretArn);
    expect(variables('open-payment-link')).not.toHaveProperty(ENV.stripeWebhookSecretArn);
  });
});

describe('DunningAlarms', () => {
  it('alarms on one failed or timed-out execution in five minutes', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('alarms on errors of every function', () => {
    for (const name of FUNCTIONS) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(template, name) } }],
        Threshold: 1,
        Period: 300,
        TreatMissingData: 'notBreaching',
      });
    }
  });
});

describe('DunningStack under cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning', () => {
    const report = new AwsSolutionsChecks(synth.app, { verbose: true }).validateScope(synth.app);
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );

    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges only the findings the design accepts, each on the narrowest construct', () => {
    const acknowledged = acknowledgedFindings(synth.app);

    const xray = 'AwsSolutions-IAM5[Resource::*]';
    expect(acknowledged.sort()).toEqual(
      [
        'Dunning/Dunning/StripeSecrets AwsSolutions-SMG4',
        `Dunning/Dunning/Stages/SendNoticeRole ${xray}`,
        `Dunning/Dunning/Stages/RetryPaymentRole ${xray}`,
        `Dunning/Dunning/Stages/CloseCaseRole ${xray}`,
        `Dunning/Dunning/Webhook/HandleWebhookRole ${xray}`,
        `Dunning/Dunning/Webhook/RouteEventsRole ${xray}`,
        'Dunning/Dunning/Webhook/RouteEventsRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<name>:*]',
        'Dunning/Dunning/Webhook/Events/DeadLetterQueue AwsSolutions-SQS3',
        `Dunning/Dunning/NoticeApi/GetNoticeRole ${xray}`,
        `Dunning/Dunning/UpdatePaymentLink/OpenPaymentLinkRole ${xray}`,
        'Dunning/Dunning/UpdatePaymentLink/SigningKey AwsSolutions-SMG4',
        `Dunning/Dunning/EmailEvents/RecordEmailEventRole ${xray}`,
        'Dunning/Dunning/EmailEvents/DeadLetterQueue AwsSolutions-SQS3',
        `Dunning/Dunning/OpenCases/CountOpenCasesRole ${xray}`,
        `Dunning/Dunning/FailedExecutions/FlagCaseRole ${xray}`,
        `Dunning/Dunning/Events/PublishEventsRole ${xray}`,
        `Dunning/Dunning/AccessApi/GetAccessRole ${xray}`,
        'Dunning/Dunning/FailedExecutions/FlagCaseRole AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<name>:*]',
        'Dunning/Dunning/FailedExecutions/DeadLetterQueue AwsSolutions-SQS3',
        `Dunning/Dunning/Workflow/StateMachine/Role ${xray}`,
      ].sort(),
    );
  });

  it('leaves no CDK error or warning annotation on the stack', () => {
    const annotations = Annotations.fromStack(synth.stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });
});

/** The bundled handler of a function, read from the cloud assembly's asset folder. */
function bundledCode(name: string): string {
  const code = template.toJSON().Resources[functionLogicalId(template, name)].Properties.Code as { S3Key: string };
  const assetHash = code.S3Key.replace(/\.zip$/, '');
  return readFileSync(join(synth.assembly.directory, `asset.${assetHash}`, 'index.mjs'), 'utf8');
}
