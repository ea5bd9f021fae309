// Drops a DependsOn that a Ref or GetAtt already enforces (cfn-lint W3005). A Lambda function and
// a state machine each depend on their whole Role construct, so CloudFormation got DependsOn on
// the role, which their `Role: GetAtt` already orders, beside the one on the role's DefaultPolicy,
// which nothing references and which must stay: without it the function could be created (and
// invoked) before its permissions exist.
import { CfnResource, Reference, Stack, Tokenization, type IAspect, type IResolvable } from 'aws-cdk-lib';
import { Dependable, type IConstruct } from 'constructs';

/**
 * For each CloudFormation resource with a construct dependency on something it also references,
 * depends instead on the rest of that construct's resources. What "the rest" is, is worked out when
 * CDK turns construct dependencies into DependsOn, so a policy added to a role after this aspect ran
 * is still depended on.
 */
export class NoRedundantDependsOn implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    for (const target of node.node.dependencies) {
      if (Stack.isStack(target) || !templateResources(node, target).some((resource) => referencesOf(node).has(resource))) continue;
      node.node.removeDependency(target);
      // Only a dependency added on the construct itself can be removed; one that came in through a
      // group of several stays as it was, and so does this resource.
      if (node.node.dependencies.includes(target)) continue;
      node.node.addDependency(new UnreferencedResources(node, target));
    }
  }
}

/** The resources of `target` that `source` does not reference, as of when they are asked for. */
class UnreferencedResources {
  constructor(source: CfnResource, target: IConstruct) {
    Dependable.implement(this, {
      get dependencyRoots() {
        const referenced = referencesOf(source);
        return templateResources(source, target).filter((resource) => !referenced.has(resource));
      },
    });
  }
}

/** The CloudFormation resources under `target` in `source`'s stack: what a DependsOn could name. */
function templateResources(source: CfnResource, target: IConstruct): CfnResource[] {
  const stack = Stack.of(source);
  return target.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c) && Stack.of(c) === stack);
}

/**
 * Every construct `resource` names with a Ref or GetAtt in its properties, found from the tokens
 * without resolving them (resolving now would fix lazy values before synthesis). A reference
 * inside another intrinsic (Fn::Join…) is not seen, which only ever keeps a DependsOn.
 */
function referencesOf(resource: CfnResource): Set<IConstruct> {
  const found = new Set<IConstruct>();
  const visitToken = (token: IResolvable | undefined) => {
    if (token && Reference.isReference(token)) found.add(token.target);
  };
  const visit = (value: unknown): void => {
    if (typeof value === 'string') Tokenization.reverseString(value).tokens.forEach(visitToken);
    else if (typeof value === 'number') visitToken(Tokenization.reverseNumber(value));
    else if (Tokenization.isResolvable(value)) visitToken(value);
    else if (Array.isArray(value)) {
      const list = value.every((v) => typeof v === 'string') ? Tokenization.reverseList(value) : undefined;
      if (list) visitToken(list);
      else value.forEach(visit);
    } else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  // `cfnProperties` is protected: the one place CfnResource exposes every property it renders.
  visit((resource as unknown as { cfnProperties: Record<string, unknown> }).cfnProperties);
  return found;
}
