// CloudFormation's intrinsic functions, evaluated against the local runtime's stand-ins instead of
// a deployment: `{ "Fn::GetAtt": ["DunningStore…", "Arn"] }` becomes the local table's ARN. What the
// functions' environments, IAM policies and the state machine's definition say in the template is
// then exactly what runs locally, with local names in place of CloudFormation's generated ones.

/** A resource as the local runtime provides it: what `Ref` gives, and each `Fn::GetAtt` attribute. */
export interface LocalResource {
  ref: string;
  attributes?: Record<string, string>;
}

export interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[]; Condition?: string }>;
  Conditions?: Record<string, unknown>;
  Parameters?: Record<string, { Default?: unknown }>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface Pseudo {
  region: string;
  account: string;
  stackName: string;
}

/** Thrown for a value the local runtime cannot stand in for: it names the resource and attribute. */
export class UnresolvableError extends Error {
  override readonly name = 'UnresolvableError';
}

export class Intrinsics {
  constructor(
    private readonly template: Template,
    private readonly resources: (logicalId: string) => LocalResource | undefined,
    private readonly pseudo: Pseudo,
  ) {}

  /** Resolves every intrinsic inside `value` (objects and arrays included). */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, argument] = entries[0]!;
      if (key === 'Ref') return this.ref(String(argument));
      if (key.startsWith('Fn::')) return this.fn(key, argument);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const resolved = this.resolve(item);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  /** Resolves `value` and insists on a string (an environment variable, an ARN). */
  string(value: unknown, where: string): string {
    const resolved = this.resolve(value);
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    if (typeof resolved !== 'string') throw new UnresolvableError(`${where}: expected a string, got ${JSON.stringify(resolved)}`);
    return resolved;
  }

  private ref(name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.pseudo.region;
      case 'AWS::AccountId':
        return this.pseudo.account;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.pseudo.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.pseudo.region}:${this.pseudo.account}:stack/${this.pseudo.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter) return parameter.Default;
    return this.resource(name, 'Ref').ref;
  }

  private getAtt(logicalId: string, attribute: string): string {
    const resource = this.resource(logicalId, `Fn::GetAtt ${attribute}`);
    const value = resource.attributes?.[attribute];
    if (value === undefined) {
      const type = this.template.Resources[logicalId]?.Type;
      throw new UnresolvableError(`the local runtime has no ${type ?? 'resource'} attribute ${logicalId}.${attribute}`);
    }
    return value;
  }

  private resource(logicalId: string, what: string): LocalResource {
    if (!this.template.Resources[logicalId]) throw new UnresolvableError(`${what}: no resource ${logicalId} in the template`);
    const resource = this.resources(logicalId);
    if (!resource) {
      throw new UnresolvableError(`${what}: the local runtime does not stand in for ${logicalId} (${this.template.Resources[logicalId]!.Type})`);
    }
    return resource;
  }

  private fn(name: string, argument: unknown): unknown {
    switch (name) {
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(argument) ? argument : String(argument).split(/\.(.*)/s);
        return this.getAtt(String(logicalId), String(this.resolve(attribute)));
      }
      case 'Fn::Join': {
        const [separator, parts] = argument as [string, unknown[]];
        return (this.resolve(parts) as unknown[]).map((part, index) => this.string(part, `Fn::Join part ${index}`)).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = argument as [unknown, unknown];
        const items = this.resolve(list);
        if (!Array.isArray(items)) throw new UnresolvableError(`Fn::Select over ${JSON.stringify(items)}`);
        return items[Number(this.resolve(index))];
      }
      case 'Fn::Split': {
        const [separator, source] = argument as [string, unknown];
        return this.string(source, 'Fn::Split').split(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] = Array.isArray(argument) ? (argument as [string, Record<string, unknown>]) : [String(argument), {}];
        return text.replace(/\$\{([^}!][^}]*)\}/g, (_whole, expression: string) => {
          if (expression in variables) return this.string(variables[expression], `Fn::Sub \${${expression}}`);
          const [id, attribute] = expression.split(/\.(.*)/s);
          return attribute ? this.getAtt(id!, attribute) : this.string(this.ref(id!), `Fn::Sub \${${expression}}`);
        });
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = argument as [string, unknown, unknown];
        return this.resolve(this.condition(condition) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = argument as [unknown, unknown];
        return JSON.stringify(this.resolve(a)) === JSON.stringify(this.resolve(b));
      }
      case 'Fn::Not':
        return !this.truthy((argument as unknown[])[0]);
      case 'Fn::And':
        return (argument as unknown[]).every((item) => this.truthy(item));
      case 'Fn::Or':
        return (argument as unknown[]).some((item) => this.truthy(item));
      default:
        throw new UnresolvableError(`the local runtime does not evaluate ${name}`);
    }
  }

  /** A named condition of the template. */
  condition(name: string): boolean {
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new UnresolvableError(`no condition ${name} in the template`);
    return this.truthy(definition);
  }

  private truthy(value: unknown): boolean {
    if (value && typeof value === 'object' && 'Condition' in value) return this.condition(String((value as { Condition: unknown }).Condition));
    return this.resolve(value) === true;
  }
}

/** `Ref: AWS::NoValue`: the property or list item is left out. */
const NO_VALUE = Symbol('AWS::NoValue');
