// NoRedundantDependsOn on a bare function: the DependsOn its Role GetAtt already enforces goes, the
// one on the role's policy stays, even a policy that appears after the aspect ran, and a dependency
// on something the resource does not reference is left alone.
import { App, AspectPriority, Aspects, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Code, Function, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { Construct, type IConstruct } from 'constructs';
import { NoRedundantDependsOn } from '#infra/aspects/no-redundant-depends-on.ts';

function stackWithFunction(): { stack: Stack; fn: Function } {
  const stack = new Stack(new App(), 'S');
  const fn = new Function(stack, 'Fn', { runtime: Runtime.NODEJS_22_X, handler: 'index.handler', code: Code.fromInline('export const handler = () => {}') });
  Aspects.of(stack).add(new NoRedundantDependsOn(), { priority: AspectPriority.MUTATING });
  return { stack, fn };
}

/** The function's DependsOn, by the construct path of each logical id, and what its Role names. */
function dependenciesOf(stack: Stack, fn: Function): { dependsOn: string[]; roleGetAtt: string } {
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { DependsOn?: string[]; Properties: { Role?: { 'Fn::GetAtt': [string, string] } } }> };
  const resource = template.Resources[stack.getLogicalId(fn.node.defaultChild as never)]!;
  const pathOf = (logicalId: string) => stack.node.findAll().find((c) => 'logicalId' in c && stack.resolve((c as { logicalId: string }).logicalId) === logicalId)!.node.path;
  return { dependsOn: (resource.DependsOn ?? []).map(pathOf).sort(), roleGetAtt: pathOf(resource.Properties.Role!['Fn::GetAtt'][0]) };
}

describe('NoRedundantDependsOn', () => {
  it('drops the DependsOn on the role the function names, and keeps the one on its policy', () => {
    const { stack, fn } = stackWithFunction();
    fn.addToRolePolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: ['*'] }));

    const { dependsOn, roleGetAtt } = dependenciesOf(stack, fn);

    expect(roleGetAtt).toBe('S/Fn/ServiceRole/Resource');
    expect(dependsOn).toEqual(['S/Fn/ServiceRole/DefaultPolicy/Resource']);
  });

  it('still depends on a policy the role only gets after the aspect has visited the function', () => {
    const { stack, fn } = stackWithFunction();
    // Visited after the function's subtree: the role has no policy yet when the aspect sees the function.
    const later = new Construct(stack, 'Later');
    Aspects.of(later).add({
      visit: (node: IConstruct) => {
        if (node === later) fn.addToRolePolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: ['*'] }));
      },
    });

    expect(dependenciesOf(stack, fn).dependsOn).toEqual(['S/Fn/ServiceRole/DefaultPolicy/Resource']);
  });

  it('leaves a dependency on something the resource does not reference', () => {
    const { stack, fn } = stackWithFunction();
    const topic = new Topic(stack, 'Topic');
    (fn.node.defaultChild as IConstruct).node.addDependency(topic);

    expect(dependenciesOf(stack, fn).dependsOn).toEqual(['S/Topic/Resource']);
  });
});
