// Shared helpers of the infra tests: synthesize a DunningStack once, read its state machine
// definition back from the template, and find resources by the function they belong to.
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { DunningStack } from '#infra/stacks/dunning-stack.ts';
import type { DunningWorkflowProps } from '#infra/dunning-workflow.ts';
import { loadPolicyFile } from '#shared/policy/load.ts';
import type { StateMachineDefinition } from '#shared/workflow/definition.ts';

export interface SynthOptions extends Partial<DunningWorkflowProps> {
  /**
   * Run esbuild on the five handlers. Off, CDK skips bundling (context `aws:cdk:bundling-stacks`),
   * which is all a test of the template needs and saves seconds per synth.
   * @default false
   */
  readonly bundle?: boolean;
  /** The stack's `alarmEmail`. */
  readonly alarmEmail?: string;
}

export interface Synthesized {
  readonly app: App;
  readonly stack: DunningStack;
  readonly template: Template;
  readonly assembly: CloudAssembly;
}

export function synthDunningStack(options: SynthOptions = {}): Synthesized {
  const { bundle = false, alarmEmail, ...workflow } = options;
  const app = new App(bundle ? {} : { context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new DunningStack(app, 'Dunning', {
    dunning: { policy: loadPolicyFile(), email: { sender: 'billing@acme.com' }, ...workflow },
    alarmEmail,
  });
  const assembly = app.synth();
  return { app, stack, template: Template.fromStack(stack), assembly };
}

/** A CloudFormation value: a literal, or an intrinsic such as `{ "Fn::GetAtt": [...] }`. */
type CfnValue = string | Record<string, unknown>;

/**
 * The state machine's definition, parsed back from its `Fn::Join`. Each token becomes a readable
 * placeholder, `${Token[<LogicalId>]}`, so a Task's Resource names the function it invokes.
 */
export function definitionOf(template: Template): StateMachineDefinition {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const body = (machines[0] as { Properties: { DefinitionString: CfnValue } }).Properties.DefinitionString;
  if (typeof body === 'string') return JSON.parse(body) as StateMachineDefinition;
  const join = body['Fn::Join'] as [string, CfnValue[]];
  return JSON.parse(join[1].map(placeholderOf).join(join[0])) as StateMachineDefinition;
}

export function placeholderOf(part: CfnValue): string {
  if (typeof part === 'string') return part;
  const getAtt = part['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return `\${Token[${getAtt[0]}]}`;
  const ref = part.Ref as string | undefined;
  if (ref) return `\${Token[${ref}]}`;
  return '${Token[?]}';
}

/** Logical id of the Lambda whose POWERTOOLS_SERVICE_NAME is `name` (the functions/ folder). */
export function functionLogicalId(template: Template, name: string): string {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(
    ([, resource]) =>
      (resource as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment
        ?.Variables?.POWERTOOLS_SERVICE_NAME === name,
  );
  if (found.length !== 1 || !found[0]) throw new Error(`expected one function ${name}, found ${found.length}`);
  return found[0][0];
}

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

/** Every statement of the inline policies attached to the role of `functionId` (or to `roleId`). */
export function statementsOfRole(template: Template, roleLogicalId: string): PolicyStatementJson[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .map((resource) => (resource as { Properties: IamPolicyProperties }).Properties)
    .filter((properties) => properties.Roles.some((role) => role.Ref === roleLogicalId))
    .flatMap((properties) => properties.PolicyDocument.Statement);
}

export function roleOfFunction(template: Template, functionId: string): string {
  const resource = template.toJSON().Resources[functionId] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } };
  return resource.Properties.Role['Fn::GetAtt'][0];
}

export function actionsOf(statements: PolicyStatementJson[]): string[] {
  return statements.flatMap((statement) => [statement.Action].flat()).sort();
}

interface IamPolicyProperties {
  Roles: Array<{ Ref: string }>;
  PolicyDocument: { Statement: PolicyStatementJson[] };
}

/**
 * Every cdk-nag acknowledgement in the app as "<construct path> <finding id>", with the tokens that
 * vary between synths (state machine name, table ARN) written as stable placeholders.
 */
export function acknowledgedFindings(app: App, pathIncludes = ''): string[] {
  return app.node
    .findAll()
    .filter((construct) => construct.node.path.includes(pathIncludes))
    .flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.keys(entry.data as Record<string, string>))
        .map(
          (id) =>
            `${construct.node.path} ${id
              .replace(/^annotation::/i, '')
              .replace(/execution:\{.*\}:\*/, 'execution:<name>:*')
              .replace(/<DunningStore[^>]*\.Arn>\/index\/\*/, '<table>/index/*')}`,
        ),
    )
    .sort();
}

/** A CloudFormation string value (a literal or an `Fn::Join`) with each token as a placeholder. */
export function renderedString(value: CfnValue): string {
  if (typeof value === 'string') return value;
  const join = value['Fn::Join'] as [string, CfnValue[]] | undefined;
  if (!join) return placeholderOf(value);
  return join[1].map(placeholderOf).join(join[0]);
}
