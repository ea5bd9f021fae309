// DunningWorkflow as a user embeds it in a stack of their own: the policy drives the machine, a bad
// policy or sender fails synth, and the optional props change what is created. Bundling is skipped.
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { ConfigurationSet } from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { DunningWorkflow, type DunningWorkflowProps } from '#infra/index.ts';
import { ENV } from '#shared/config.ts';
import { PAUSE_CAP_DAYS } from '#shared/domain/pause-limits.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import type { Policy } from '#shared/policy/schema.ts';
import type { PolicySetInput } from '#shared/policy/segments.ts';
import { buildDefinition, CHOOSE_POLICY, SECONDS_PER_DAY, waitStates } from '#shared/workflow/definition.ts';
import { annualPolicyFile } from '../fixtures/policies.ts';
import { definitionOf, functionLogicalId } from './synth.ts';

const API_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:stripe/api-key-AbCdEf';
const SIGNING_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:stripe/whsec-GhIjKl';
const LINK_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:dunning/link-key-MnOpQr';

function embed(props: Partial<DunningWorkflowProps> = {}, extra?: (stack: Stack) => Partial<DunningWorkflowProps>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Billing');
  const workflow = new DunningWorkflow(stack, 'Dunning', {
    policy: loadPolicyFile(),
    email: { sender: 'billing@acme.com' },
    ...props,
    ...extra?.(stack),
  });
  return { stack, workflow, template: Template.fromStack(stack) };
}

/** The default policy without its second notice: two notices instead of three. */
function twoNoticePolicy(): Policy {
  const policy = structuredClone(loadPolicyFile());
  policy.stages = policy.stages.filter((stage) => stage.id !== 'Notice2');
  return policy;
}

describe('DunningWorkflow', () => {
  describe('policy', () => {
    it('generates a different state machine from a policy with a different number of notices', () => {
      const policy = twoNoticePolicy();

      const definition = definitionOf(embed({ policy }).template);

      const expected = buildDefinition(policy, { sendNotice: 'a', retryPayment: 'b', closeCase: 'c' });
      expect(Object.keys(definition.States).sort()).toEqual(Object.keys(expected.States).sort());
      expect(definition.States).not.toHaveProperty('Notice2');
      expect(definition.States).toHaveProperty('Notice3');
      expect(waitStates(definition)).toEqual(waitStates(expected));
    });

    it('fails synth naming the field when the policy is invalid', () => {
      const policy = structuredClone(loadPolicyFile());
      const retry = policy.stages[1];
      if (!retry) throw new Error('the default policy has a second stage');
      retry.day = -1;

      expect(() => embed({ policy })).toThrow(/DunningWorkflowProps\.policy: stages\[1\]\.day/);
    });

    it('fails synth when the policy has no retry stage', () => {
      const policy = structuredClone(loadPolicyFile());
      policy.stages = policy.stages.filter((stage) => stage.type === 'notice');

      expect(() => embed({ policy })).toThrow(/stages: needs at least one retry stage/);
    });

    it('deploys one state machine for a file of several policies, choosing by $.policy', () => {
      const { template, workflow } = embed({ policy: annualPolicyFile() as PolicySetInput });

      const definition = definitionOf(template);

      expect(definition.StartAt).toBe(CHOOSE_POLICY);
      expect(definition.States).toHaveProperty('annual.Notice1');
      expect(definition.States).toHaveProperty('Notice1');
      expect(definition.TimeoutSeconds).toBe((30 + 7 + PAUSE_CAP_DAYS) * SECONDS_PER_DAY);
      expect(Object.keys(workflow.policies.policies)).toEqual(['default', 'annual']);
      expect(workflow.policy).toEqual(loadPolicyFile());
    });

    it('fails synth naming the valid policies when a segment names another', () => {
      const policy = annualPolicyFile((f) => (f.segments[0].policy = 'yearly'));

      expect(() => embed({ policy: policy as PolicySetInput })).toThrow(/DunningWorkflowProps\.policy: segments\[0\]\.policy: no policy named "yearly"; use one of "default", "annual"/);
    });

    it('accepts a policy literal that leaves defaulted fields out', () => {
      const { locale: _locale, timeZone: _timeZone, ...literal } = loadPolicyFile();

      const { workflow } = embed({ policy: literal });

      expect(workflow.policy.timeZone).toBe('UTC');
    });
  });

  describe('email', () => {
    it('rejects a sender that is not an email address', () => {
      expect(() => embed({ email: { sender: 'billing' } })).toThrow(/email\.sender: "billing" is not an email address/);
    });

    it('accepts a display name and scopes SES to the address inside it', () => {
      const { template } = embed({ email: { sender: 'Acme Billing <billing@acme.com>', replyTo: ['help@acme.com'] } });

      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            [ENV.sender]: 'Acme Billing <billing@acme.com>',
            [ENV.replyTo]: 'help@acme.com',
          }),
        },
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'ses:SendEmail',
              Condition: { StringEquals: { 'ses:FromAddress': 'billing@acme.com' } },
            }),
          ]),
        },
      });
    });

    it('creates a configuration set with reputation metrics unless one is given', () => {
      embed().template.hasResourceProperties('AWS::SES::ConfigurationSet', {
        ReputationOptions: { ReputationMetricsEnabled: true },
        SendingOptions: { SendingEnabled: true },
      });

      const { template } = embed({}, (stack) => ({
        email: { sender: 'billing@acme.com', configurationSet: new ConfigurationSet(stack, 'Existing', { configurationSetName: 'billing' }) },
      }));
      template.resourceCountIs('AWS::SES::ConfigurationSet', 1);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.configurationSet]: { Ref: Match.stringLikeRegexp('^Existing') } }) },
      });
    });
  });

  describe('secrets', () => {
    it('creates two placeholder Stripe secrets and a link signing key when none are given', () => {
      const { template } = embed();

      template.resourceCountIs('AWS::SecretsManager::Secret', 3);
      template.allResourcesProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.anyValue() });
    });

    it('uses existing secrets by ARN and creates none', () => {
      const { template } = embed({}, (stack) => ({
        secrets: {
          stripeApiKey: Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN),
          webhookSigningSecret: Secret.fromSecretCompleteArn(stack, 'SigningSecret', SIGNING_SECRET_ARN),
          linkSigningKey: Secret.fromSecretCompleteArn(stack, 'LinkKey', LINK_KEY_ARN),
        },
      }));

      template.resourceCountIs('AWS::SecretsManager::Secret', 0);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.linkSigningKeySecretArn]: LINK_KEY_ARN }) },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.stripeApiKeySecretArn]: API_KEY_ARN }) },
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ [ENV.stripeWebhookSecretArn]: SIGNING_SECRET_ARN }) },
      });
    });
  });

  describe('ingest', () => {
    it('creates no webhook URL when functionUrl is false, but keeps the function', () => {
      const { template, workflow } = embed({ ingest: { functionUrl: false } });

      expect(workflow.webhookUrl).toBeUndefined();
      // Only the customers' update-payment link stays public.
      template.resourcePropertiesCountIs('AWS::Lambda::Url', { AuthType: 'NONE' }, 1);
      template.resourcePropertiesCountIs('AWS::Lambda::Url', { TargetFunctionArn: { 'Fn::GetAtt': [functionLogicalId(template, 'handle-webhook'), 'Arn'] } }, 0);
      // The notice API and the access API, for the merchant's backend.
      template.resourcePropertiesCountIs('AWS::Lambda::Url', { AuthType: 'AWS_IAM' }, 2);
      expect(functionLogicalId(template, 'handle-webhook')).toBeTruthy();
    });
  });

  describe('notice API', () => {
    it('lets a granted role call the notice API URL', () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'Billing');
      const workflow = new DunningWorkflow(stack, 'Dunning', { policy: loadPolicyFile(), email: { sender: 'billing@acme.com' } });
      const backend = new Role(stack, 'Backend', { assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com') });

      workflow.grantNoticeApi(backend);

      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^Backend') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'lambda:InvokeFunctionUrl',
              Resource: { 'Fn::GetAtt': [functionLogicalId(template, 'get-notice'), 'Arn'] },
            }),
          ]),
        },
      });
    });
  });

  describe('operations', () => {
    it('sends every alarm to the alarm topic when one is given', () => {
      const { template } = embed({}, (stack) => ({ alarmTopic: new Topic(stack, 'Oncall') }));

      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
      // 2 execution alarms, 12 function errors, needs attention, wasted attempts, signature burst,
      // events not published, SES bounce and complaint, and the webhook events', the email events'
      // and the failed executions' dead-letter queues.
      expect(alarms).toHaveLength(23);
      template.allResourcesProperties('AWS::CloudWatch::Alarm', {
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Oncall') }],
      });
    });

    it('applies the removal policy to the table, the log groups and the created secrets', () => {
      const { template } = embed({ removalPolicy: RemovalPolicy.DESTROY });

      for (const type of ['AWS::DynamoDB::Table', 'AWS::Logs::LogGroup', 'AWS::SecretsManager::Secret']) {
        for (const resource of Object.values(template.findResources(type))) {
          expect(resource, type).toMatchObject({ DeletionPolicy: 'Delete' });
        }
      }
    });

    it('keeps logs for the given retention', () => {
      const { template } = embed({ logRetention: RetentionDays.THREE_MONTHS });

      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    });
  });
});

describe('DunningWorkflow request budget', () => {
  const envOf = (template: Template, name: string) =>
    (template.toJSON().Resources[functionLogicalId(template, name)] as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables ?? {};
  const CALLERS = ['route-events', 'send-notice', 'retry-payment', 'close-case', 'open-payment-link', 'get-access'];

  it('gives every function that calls Stripe or sends email the budget chosen, and the others nothing', () => {
    const { template } = embed({ budget: { stripe: { perSecond: 30, perEndpointPerSecond: 8 }, emailsPerSecond: 4 } });

    for (const name of CALLERS) {
      expect(envOf(template, name), name).toMatchObject({ [ENV.stripeBudget]: '30/8', [ENV.emailBudget]: '4' });
    }
    // The webhook only verifies and stores: it calls neither Stripe nor SES.
    for (const name of ['handle-webhook', 'get-notice', 'record-email-event', 'count-open-cases', 'flag-case', 'publish-events']) {
      expect(envOf(template, name)[ENV.stripeBudget], name).toBeUndefined();
    }
  });

  it('sets no budget variable by default, so each function keeps the defaults for its key’s mode', () => {
    const { template } = embed();

    for (const name of CALLERS) expect(envOf(template, name)[ENV.stripeBudget], name).toBeUndefined();
  });

  it('fails synth naming the field for a budget no function could run with', () => {
    expect(() => embed({ budget: { stripe: { perSecond: 0 } } })).toThrow('budget.stripe.perSecond must be a number above 0, not 0');
    expect(() => embed({ budget: { stripe: { perSecond: 10, perEndpointPerSecond: 20 } } })).toThrow(
      'budget.stripe.perEndpointPerSecond (20) cannot be above budget.stripe.perSecond (10)',
    );
    expect(() => embed({ budget: { emailsPerSecond: Number.NaN } })).toThrow('budget.emailsPerSecond must be a number above 0, not NaN');
  });
});

