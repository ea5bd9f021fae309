// The synthesized templates pass cfn-lint with no error and no warning, in every shape a user can
// deploy: the stack as shipped, with EventBridge ingest, without the Function URL, with several
// policies, and the DunningWorkflow embedded in a stack of the user's own. Every function (and the
// state machine) still waits for its role's policy: the DependsOn that goes is only the one its
// Role GetAtt already enforces (W3005).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DunningWorkflow, type DunningWorkflowProps } from '#infra/index.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import type { PolicySetInput } from '#shared/policy/segments.ts';
import { annualPolicyFile } from '../fixtures/policies.ts';
import { cfnLintTestPlan } from '../fixtures/optional-tools.ts';
import { synthDunningStack } from './synth.ts';

/** A DunningWorkflow in a plain stack, as a user's own app embeds it. */
function embedded(props: Partial<DunningWorkflowProps> = {}): Template {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Billing');
  new DunningWorkflow(stack, 'Dunning', { policy: loadPolicyFile(), email: { sender: 'billing@acme.com' }, ...props });
  return Template.fromStack(stack);
}

const eventBridge = { eventBridge: { eventBusName: 'aws.partner/stripe.com/ed_test' } };
const variants: Array<[string, () => Template]> = [
  ['the stack as shipped', () => synthDunningStack().template],
  ['the stack with EventBridge ingest', () => synthDunningStack({ ingest: eventBridge }).template],
  ['the stack without the Function URL', () => synthDunningStack({ ingest: { functionUrl: false } }).template],
  ['the stack with several policies', () => synthDunningStack({ policy: annualPolicyFile() as PolicySetInput }).template],
  ['a DunningWorkflow in a stack of your own', () => embedded()],
  ['a DunningWorkflow in a stack of your own, with EventBridge ingest and no Function URL', () => embedded({ ingest: { ...eventBridge, functionUrl: false } })],
];

interface Resource {
  Type: string;
  DependsOn?: string | string[];
  Properties?: { Role?: { 'Fn::GetAtt': [string, string] }; RoleArn?: { 'Fn::GetAtt': [string, string] } };
}

describe.each(variants)('%s', (_name, synth) => {
  let template: Template;
  beforeAll(() => {
    template = synth();
  });

  it("makes each function and the state machine wait for its role's policy, not for the role it already names", () => {
    const resources = template.toJSON().Resources as Record<string, Resource>;
    const policiesOf = (roleId: string) =>
      Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify((r.Properties as { Roles?: unknown }).Roles) === JSON.stringify([{ Ref: roleId }]))
        .map(([id]) => id);

    const checked = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' || r.Type === 'AWS::StepFunctions::StateMachine');

    expect(checked.length).toBeGreaterThanOrEqual(10);
    for (const [id, resource] of checked) {
      const roleId = (resource.Properties?.Role ?? resource.Properties?.RoleArn)!['Fn::GetAtt'][0];
      const dependsOn = [resource.DependsOn ?? []].flat();
      expect(dependsOn, id).not.toContain(roleId);
      expect(policiesOf(roleId), id).not.toEqual([]);
      expect(dependsOn, id).toEqual(expect.arrayContaining(policiesOf(roleId)));
    }
  });

  const cfnLint = cfnLintTestPlan();
  it.skipIf(cfnLint.mode === 'skip')('passes cfn-lint with no error and no warning', async () => {
    if (cfnLint.mode !== 'run') throw new Error(cfnLint.mode === 'fail' ? cfnLint.message : 'unreachable');
    const file = join(mkdtempSync(join(tmpdir(), 'dunning-cfn-lint-')), 'template.json');
    writeFileSync(file, JSON.stringify(template.toJSON(), null, 1));

    const findings = await lint(cfnLint.path, file);

    expect(findings.filter((f) => f.Level !== 'Informational').map((f) => `${f.Rule.Id} ${f.Message} (${f.Location.Path.join('/')})`)).toEqual([]);
  });
});

interface Finding {
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Rule: { Id: string };
  Location: { Path: Array<string | number> };
}

/** cfn-lint's findings on `file`; it exits non-zero when it has any, so the exit code is not the verdict. */
function lint(cfnLint: string, file: string): Promise<Finding[]> {
  return new Promise((resolve, reject) => {
    execFile(cfnLint, ['--format', 'json', file], (error, stdout, stderr) => {
      try {
        resolve(JSON.parse(stdout) as Finding[]);
      } catch {
        reject(new Error(`cfn-lint failed: ${stderr || error?.message}`));
      }
    });
  });
}
