import { describe, expect, it } from 'vitest';
import { ENV, IngestConfigSchema, OptionalMailConfigSchema, readConfig, StageConfigSchema, WebhookConfigSchema } from '#shared/config.ts';
import { parseTaskInput } from '#shared/workflow/task-input.ts';

describe('readConfig', () => {
  it('reads a stage config, taking a secret by ARN over a value and defaulting the event TTL', () => {
    const config = readConfig(StageConfigSchema, {
      [ENV.tableName]: '  Dunning  ',
      [ENV.stripeApiKeySecretArn]: 'arn:aws:secretsmanager:us-east-1:1:secret:k',
      [ENV.stripeApiKey]: 'sk_test_ignored',
    });

    expect(config).toEqual({ tableName: 'Dunning', eventTtlDays: 7, stripeApiKey: { kind: 'secretsManager', arn: 'arn:aws:secretsmanager:us-east-1:1:secret:k' } });
  });

  it('takes a plain secret locally and coerces the event TTL from its string', () => {
    const config = readConfig(IngestConfigSchema, { [ENV.tableName]: 't', [ENV.stateMachineArn]: 'arn:sm', [ENV.stripeApiKey]: 'sk_test_1', [ENV.eventTtlDays]: '3' });

    expect(config).toMatchObject({ eventTtlDays: 3, stateMachineArn: 'arn:sm', stripeApiKey: { kind: 'plain', value: 'sk_test_1' } });
  });

  it('names each missing or bad variable and how to set it', () => {
    const read = () => readConfig(IngestConfigSchema, { [ENV.tableName]: ' ', [ENV.eventTtlDays]: '365', [ENV.stripeApiBase]: 'not a url' });

    expect(read).toThrow(/Invalid configuration: /);
    expect(read).toThrow(/DUNNING_TABLE_NAME: Too small/);
    expect(read).toThrow(/DUNNING_STATE_MACHINE_ARN is missing or empty/);
    expect(read).toThrow(/STRIPE_API_KEY_SECRET_ARN \(or STRIPE_API_KEY locally\) is missing or empty/);
    expect(read).toThrow(/DUNNING_EVENT_TTL_DAYS: Too big: expected number to be <=90/);
    expect(read).toThrow(/STRIPE_API_BASE: Invalid URL/);
  });

  it('wants the signing secret and the event queue for the webhook, and nothing of the router', () => {
    const read = () => readConfig(WebhookConfigSchema, {});

    expect(read).toThrow(/STRIPE_WEBHOOK_SECRET_ARN \(or STRIPE_WEBHOOK_SECRET locally\) is missing or empty/);
    expect(read).toThrow(/DUNNING_EVENT_QUEUE_URL is missing or empty/);
    expect(read).not.toThrow(/DUNNING_TABLE_NAME/);
  });

  it('splits the Reply-To list CDK joins with commas, and leaves a function without a sender without one', () => {
    expect(readConfig(OptionalMailConfigSchema, { [ENV.replyTo]: 'a@acme.com, b@acme.com,' })).toEqual({ replyTo: ['a@acme.com', 'b@acme.com'] });
  });
});

describe('parseTaskInput', () => {
  it('fills in an absent caught error and rejects another function\'s action', () => {
    expect(parseTaskInput({ action: 'flag', invoiceId: 'in_1' }, 'flag')).toEqual({ action: 'flag', invoiceId: 'in_1', error: {} });
    expect(() => parseTaskInput({ action: 'notice', invoiceId: 'in_1', stage: 'Notice1' }, 'retry')).toThrow(/handles retry, not "notice"/);
  });

  it('says which field of a miswired input is wrong', () => {
    expect(() => parseTaskInput({ action: 'notice', invoiceId: 'ch_1', stage: 'Notice1' }, 'notice')).toThrow(/bad stage input: invoiceId: Invalid string: must start with "in_"/);
  });
});
