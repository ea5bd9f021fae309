// The stack outputs the operator CLI reads: present under their fixed names, pointing at the right
// resources, with the deployed policy's digest, and no secret value in any of them.
import { describe, expect, it } from 'vitest';
import { OPERATOR_OUTPUTS, policyDigest } from '#shared/operator-outputs.ts';
import { loadPolicySetFile } from '#shared/policy/load.ts';
import { synthDunningStack } from './synth.ts';

describe('the operator outputs of DunningStack', () => {
  const { template, stack } = synthDunningStack({ email: { sender: 'billing@acme.com', replyTo: ['support@acme.com', 'help@acme.com'] } });
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
  const resolve = (value: unknown) => stack.resolve(value);

  it('names the table, the state machine, the secrets by ARN and the link URL', () => {
    expect(outputs[OPERATOR_OUTPUTS.tableName]!.Value).toEqual(resolve(stack.dunning.table.tableName));
    expect(outputs[OPERATOR_OUTPUTS.stateMachineArn]!.Value).toEqual(resolve(stack.dunning.stateMachine.stateMachineArn));
    expect(outputs[OPERATOR_OUTPUTS.stripeApiKeySecretArn]!.Value).toEqual(resolve(stack.dunning.secrets.apiKey.secretArn));
    expect(outputs[OPERATOR_OUTPUTS.linkSigningKeySecretArn]!.Value).toEqual(resolve(stack.dunning.updatePaymentLink.signingKey.secretArn));
    expect(outputs[OPERATOR_OUTPUTS.linkBaseUrl]!.Value).toEqual(resolve(stack.dunning.updatePaymentLinkUrl));
  });

  it("names the alarm topic the stack made, for dunning doctor", () => {
    expect(outputs[OPERATOR_OUTPUTS.alarmTopicArn]!.Value).toEqual(resolve(stack.alarmTopic!.topic.topicArn));
  });

  it('names the webhook URL and its signing secret by ARN, for dunning connect', () => {
    expect(outputs[OPERATOR_OUTPUTS.webhookUrl]!.Value).toEqual(resolve(stack.dunning.webhookUrl));
    expect(outputs[OPERATOR_OUTPUTS.webhookSigningSecretArn]!.Value).toEqual(resolve(stack.dunning.secrets.webhookSigningSecret.secretArn));
  });

  it('gives the email settings and the deployed policy\'s digest', () => {
    expect(outputs[OPERATOR_OUTPUTS.sender]!.Value).toBe('billing@acme.com');
    expect(outputs[OPERATOR_OUTPUTS.replyTo]!.Value).toBe('support@acme.com,help@acme.com');
    expect(outputs[OPERATOR_OUTPUTS.configurationSet]!.Value).toEqual(resolve(stack.dunning.email.configurationSet.configurationSetName));
    expect(outputs[OPERATOR_OUTPUTS.policySha256]!.Value).toBe(policyDigest(loadPolicySetFile()));
  });

  it('leaves Reply-To out when there is none', () => {
    const plain = synthDunningStack().template.toJSON().Outputs as Record<string, unknown>;
    expect(plain[OPERATOR_OUTPUTS.replyTo]).toBeUndefined();
    expect(plain[OPERATOR_OUTPUTS.sender]).toBeDefined();
  });
});
