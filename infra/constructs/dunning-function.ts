// The one Lambda shape every dunning function shares, decided once: runtime, arm64, tracing, its own
// log group, ESM bundling with source maps. The bind*() helpers grant access and set the matching
// environment variable in one call, so permissions and configuration cannot drift apart.
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IDestination } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { ENV } from '#shared/config.ts';
import type { PolicySet } from '#shared/policy/segments.ts';
import type { NoticeEmail } from './notice-email.ts';

/** Resolved from this file, not the working directory, so synth works from any folder (tests, CLI). */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Where a function's code is bundled from. In this repository: `functions/<name>/handler.ts`, with
 * the repository's lock file. From the installed package (package/README.md): the compiled ES
 * module `dist/esm/functions/<name>/handler.js` (the CommonJS build, under `dist/cjs/`, points at the
 * same ES module, as the bundle is one), with no lock file of ours: NodejsFunction then uses the
 * app's own, found from the working directory, as any construct library's functions do.
 */
export function functionSource(name: DunningFunctionName, root: string = PROJECT_ROOT): { entry: string; projectRoot?: string; depsLockFilePath?: string } {
  const source = `${root}functions/${name}/handler.ts`;
  if (existsSync(source) && existsSync(`${root}package-lock.json`)) {
    return { entry: source, projectRoot: root, depsLockFilePath: `${root}package-lock.json` };
  }
  for (const entry of [`${root}functions/${name}/handler.js`, `${root}../esm/functions/${name}/handler.js`]) {
    if (existsSync(entry)) return { entry };
  }
  throw new Error(`no code for the ${name} function under ${root} (functions/${name}/handler.ts or .js)`);
}

/** The folders under `functions/`; each holds a `handler.ts` that exports `handler`. */
export type DunningFunctionName =
  | 'handle-webhook'
  | 'route-events'
  | 'handle-eventbridge'
  | 'send-notice'
  | 'retry-payment'
  | 'close-case'
  | 'get-notice'
  | 'open-payment-link'
  | 'record-email-event'
  | 'count-open-cases'
  | 'flag-case'
  | 'publish-events'
  | 'get-access';

/** The environment variables that carry a secret's ARN; the value itself is read at runtime. */
export type SecretArnVariable =
  | typeof ENV.stripeApiKeySecretArn
  | typeof ENV.stripeWebhookSecretArn
  | typeof ENV.linkSigningKeySecretArn;

/** Exactly these DynamoDB actions, e.g. `['dynamodb:GetItem']`. */
export type TableAccess = readonly `dynamodb:${string}`[];

/**
 * What the case store does to an item (shared/adapters/dynamodb/case-store.ts): get, put,
 * conditional update, delete. No batch, scan or stream action: no function needs one. Reading a
 * customer's cases or the open cases is a Query on an index, granted on that index alone.
 */
export const TABLE_ITEM_ACCESS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const satisfies TableAccess;

/** Powertools' log levels, set as POWERTOOLS_LOG_LEVEL. */
export type PowertoolsLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/**
 * Newest Node.js runtime this aws-cdk-lib knows. cdk-nag's AwsSolutions-L1 demands the newest one,
 * so this moves forward with aws-cdk-lib upgrades.
 */
export const DUNNING_RUNTIME = Runtime.NODEJS_24_X;

/**
 * esbuild emits ESM, but some dependencies still call `require` (Stripe, parts of the AWS SDK);
 * this banner gives the bundle a working `require`.
 */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface DunningFunctionProps {
  /** Which `functions/<name>/handler.ts` to bundle; also the Powertools service name. */
  readonly name: DunningFunctionName;
  /** Shown in the Lambda console: what the function does in the dunning flow. */
  readonly description: string;
  /**
   * The validated policy file (every policy, its segments and alsoNotify), inlined into the bundle as `process.env.DUNNING_POLICY_JSON`
   * (esbuild `define`) rather than set as a variable: Lambda's environment is capped at 4 KB.
   * @default - no policy is bundled; for functions that never read it (get-notice)
   */
  readonly policies?: PolicySet;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** What happens to the function's log group when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** @default 'INFO' */
  readonly logLevel?: PowertoolsLogLevel;
  /** CloudWatch namespace of the Powertools metrics. @default 'Dunning' */
  readonly metricsNamespace?: string;
  /** A stage makes a handful of API calls and renders one email; 256 MB on arm64 is ample. @default 256 */
  readonly memorySize?: number;
  /**
   * Below the state machine's 60 s task timeout, so a hung call fails inside Lambda (and is retried)
   * rather than being cut off by Step Functions. @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
}

export class DunningFunction extends NodejsFunction {
  /** The folder under `functions/` whose `handler.ts` this function runs; also its Powertools service name. */
  readonly name: DunningFunctionName;
  /**
   * The policy file compiled into the code (esbuild `define`), which the template cannot show; the
   * local runtime gives it to this function alone, as the bundle would. Undefined when none is bundled.
   */
  readonly bundledPolicies?: PolicySet;
  /** The item actions bindTable granted on the table, so a later binding does not grant one twice. */
  private readonly tableActions = new Set<string>();

  constructor(scope: Construct, id: string, props: DunningFunctionProps) {
    // Created before super() (so as siblings): the role must exist to be passed in, and passing our
    // own role keeps AWSLambdaBasicExecutionRole off it; the log writes are granted on our group only.
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the dunning ${props.name} function`,
    });

    super(scope, id, {
      ...functionSource(props.name),
      handler: 'handler',
      description: props.description,
      runtime: DUNNING_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.name,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? 'Dunning',
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      },
      bundling: {
        // Local esbuild only: synth must work offline and in CI without Docker.
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        // Error class names are matched by the state machine; keep every name readable in traces too.
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the AWS SDK instead of using the runtime's copy: the code runs exactly the versions
        // it was tested with, and a runtime SDK update cannot change behaviour under a deployed stack.
        externalModules: [],
        define: props.policies
          ? { [`process.env.${ENV.policyJson}`]: JSON.stringify(JSON.stringify(props.policies)) }
          : {},
      },
    });

    logGroup.grantWrite(role);
    this.name = props.name;
    this.bundledPolicies = props.policies;
  }

  /**
   * Grants exactly `actions` on the table's items (the table itself, not its indexes: those are
   * bindTableIndex's) and sets DUNNING_TABLE_NAME. The table is encrypted with the AWS managed key,
   * which needs no grant.
   */
  bindTable(table: ITable, actions: TableAccess): this {
    this.addToRolePolicy(new PolicyStatement({ actions: [...actions], resources: [table.tableArn] }));
    for (const action of actions) this.tableActions.add(action);
    this.addEnvironment(ENV.tableName, table.tableName);
    return this;
  }

  /**
   * Grants exactly `actions` on one secondary index of the table (not the table, nor its other
   * indexes) and sets DUNNING_TABLE_NAME.
   */
  bindTableIndex(table: ITable, indexName: string, actions: readonly `dynamodb:${string}`[]): this {
    this.addToRolePolicy(new PolicyStatement({ actions: [...actions], resources: [`${table.tableArn}/index/${indexName}`] }));
    this.addEnvironment(ENV.tableName, table.tableName);
    return this;
  }

  /**
   * The shared request budget (RequestPacer): grants counting on the table's items (UpdateItem) and
   * sets DUNNING_STRIPE_BUDGET / DUNNING_EMAIL_BUDGET when the deployment chose them; unset, the
   * function keeps the defaults for its key's mode.
   */
  bindRequestBudget(table: ITable, budget: RequestBudgets = {}): this {
    // Most such functions write the table anyway: one grant, not two.
    if (!this.tableActions.has('dynamodb:UpdateItem')) this.bindTable(table, ['dynamodb:UpdateItem']);
    if (budget.stripe) {
      const { perSecond, perEndpointPerSecond } = budget.stripe;
      this.addEnvironment(ENV.stripeBudget, perEndpointPerSecond === undefined ? `${perSecond}` : `${perSecond}/${perEndpointPerSecond}`);
    }
    if (budget.emailsPerSecond !== undefined) this.addEnvironment(ENV.emailBudget, `${budget.emailsPerSecond}`);
    return this;
  }

  /**
   * For a function invoked asynchronously (by EventBridge or SNS): an error it throws (a dependency
   * down) is retried twice by Lambda within 6 hours, then the invocation goes to `queue` (a Lambda
   * destination record, the event under `requestPayload`) instead of being dropped.
   */
  keepFailedInvocations(queue: IQueue): this {
    this.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: sendOnlyTo(queue) });
    return this;
  }

  /**
   * Grants sqs:SendMessage on the webhook's event queue (nothing else: no receive, no attributes)
   * and sets DUNNING_EVENT_QUEUE_URL. The queue is encrypted with an SQS-managed key: no KMS grant.
   */
  bindEventQueue(queue: IQueue): this {
    queue.grant(this, 'sqs:SendMessage');
    this.addEnvironment(ENV.eventQueueUrl, queue.queueUrl);
    return this;
  }

  /**
   * Makes this function the consumer of `queue`, as Lambda's event source mapping polls it: batches
   * of up to `batchSize`, a failed message reported alone (ReportBatchItemFailures) rather than the
   * whole batch. The mapping's grant is the one CDK gives it (grantConsumeMessages: receive, delete,
   * change visibility, get attributes and URL), which Lambda's poller uses with this role.
   * `maxConcurrency` bounds the batches in flight at once (the mapping's ScalingConfig).
   */
  consumeQueue(queue: IQueue, options: { batchSize: number; maxConcurrency?: number }): this {
    this.addEventSource(
      new SqsEventSource(queue, {
        batchSize: options.batchSize,
        reportBatchItemFailures: true,
        ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}),
      }),
    );
    return this;
  }

  /** Grants reading the secret and sets `variable` to its ARN; the value never enters the environment. */
  bindSecret(variable: SecretArnVariable, secret: ISecret): this {
    secret.grantRead(this);
    this.addEnvironment(variable, secret.secretArn);
    return this;
  }

  /** Grants sending as the notice sender and sets the sender, reply-to and configuration set variables. */
  bindEmail(email: NoticeEmail): this {
    email.grantSend(this);
    return this;
  }

  /**
   * Grants publishing on the merchant's event bus (events:PutEvents on that bus alone) and sets
   * DUNNING_EVENT_BUS_NAME to its ARN, which PutEvents takes for a bus of another account too.
   */
  bindEventBus(bus: IEventBus): this {
    bus.grantPutEventsTo(this);
    this.addEnvironment(ENV.eventBusName, bus.eventBusArn);
    return this;
  }

  /**
   * Grants starting executions and stopping or describing them (a paid invoice ends its case), and
   * sets DUNNING_STATE_MACHINE_ARN.
   */
  bindStateMachine(stateMachine: IStateMachine): this {
    stateMachine.grantStartExecution(this);
    stateMachine.grantExecution(this, 'states:StopExecution', 'states:DescribeExecution');
    this.addEnvironment(ENV.stateMachineArn, stateMachine.stateMachineArn);
    return this;
  }
}

/** What the product allows itself of Stripe and SES per second, shared by every function. */
export interface RequestBudgets {
  /**
   * Stripe requests per second for the account, and per endpoint (Stripe counts each API operation
   * apart). @default - by the key's mode: 35 and 8 live, 8 and 8 test (half of Stripe's limits or less)
   */
  readonly stripe?: { readonly perSecond: number; readonly perEndpointPerSecond?: number };
  /** Emails per second through SES. @default 10 */
  readonly emailsPerSecond?: number;
}

/**
 * A Lambda on-failure destination that grants only what Lambda calls to deliver there:
 * sqs:SendMessage (and the queue's key, when it has one). CDK's SqsDestination grants
 * grantSendMessages, whose GetQueueAttributes and GetQueueUrl Lambda never uses.
 */
function sendOnlyTo(queue: IQueue): IDestination {
  return {
    bind: (_scope, fn) => {
      queue.grant(fn, 'sqs:SendMessage');
      queue.encryptionMasterKey?.grantEncryptDecrypt(fn);
      return { destination: queue.queueArn };
    },
  };
}
