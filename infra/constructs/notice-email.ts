// Who the dunning emails come from and through which SES (v2) configuration set. grantSend() is the
// only way a function gets to send: scoped to the sender's identity and the configuration set.
// Note: while the account is in the SES sandbox, SES also authorizes each send against the
// recipient's identity, so these scoped grants only work once production access is granted.
import { Stack, Token } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { ConfigurationSet, SuppressionReasons, type IConfigurationSet } from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { ENV } from '#shared/config.ts';

export interface NoticeEmailProps {
  /**
   * The From of every notice: `billing@acme.com` or `Acme Billing <billing@acme.com>`. You verify
   * its SES identity yourself, either the address or its domain; both are granted.
   */
  readonly sender: string;
  /** Reply-To addresses, e.g. the support desk. @default - replies go to the sender */
  readonly replyTo?: string[];
  /**
   * An existing SES configuration set (event destinations, dedicated IPs, ...).
   * @default - a new one with reputation metrics, sending enabled, and bounces and complaints suppressed
   */
  readonly configurationSet?: IConfigurationSet;
}

export class NoticeEmail extends Construct {
  /** The From as given, display name included; functions send with exactly this. */
  readonly sender: string;
  /** The bare address inside `sender`. */
  readonly senderAddress: string;
  readonly replyTo: readonly string[];
  readonly configurationSet: IConfigurationSet;
  /** The SES identity ARNs a send may be authorized against: the address and its domain. */
  readonly identityArns: readonly string[];

  constructor(scope: Construct, id: string, props: NoticeEmailProps) {
    super(scope, id);
    this.sender = props.sender;
    this.senderAddress = addressOf(props.sender, 'sender');
    this.replyTo = (props.replyTo ?? []).map((entry, index) => {
      addressOf(entry, `replyTo[${index}]`);
      return entry;
    });
    this.configurationSet =
      props.configurationSet ??
      new ConfigurationSet(this, 'ConfigurationSet', {
        // Dunning mail goes to addresses that may have gone stale with the card; suppressing hard
        // bounces and complaints protects the sender's reputation, and the metrics make it visible.
        reputationMetrics: true,
        sendingEnabled: true,
        suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      });

    const domain = this.senderAddress.slice(this.senderAddress.indexOf('@') + 1);
    // SES authorizes a send against whichever identity is verified: the address, or else its domain.
    this.identityArns = [this.senderAddress, domain].map((identity) =>
      Stack.of(this).formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
    );
  }

  /** The configuration set's ARN, the second resource SES authorizes a send against. */
  get configurationSetArn(): string {
    return Stack.of(this).formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
  }

  /**
   * Lets `fn` send as the sender through the configuration set, and nothing else: no other identity,
   * no other From address at a verified domain. Sets the sender, reply-to and configuration set
   * variables in the same call.
   */
  grantSend(fn: LambdaFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [...this.identityArns, this.configurationSetArn],
        conditions: { StringEquals: { 'ses:FromAddress': this.senderAddress } },
      }),
    );
    fn.addEnvironment(ENV.sender, this.sender);
    if (this.replyTo.length > 0) fn.addEnvironment(ENV.replyTo, this.replyTo.join(','));
    fn.addEnvironment(ENV.configurationSet, this.configurationSet.configurationSetName);
  }
}

const ADDRESS = /^[^\s@<>,]+@([^\s@<>,.]+\.)+[^\s@<>,.]+$/;

/** Accepts `a@b.c` or `Name <a@b.c>`; anything else fails synth naming the field. */
function addressOf(value: string, field: string): string {
  if (Token.isUnresolved(value)) {
    throw new Error(`email.${field} must be a literal address: its domain scopes the SES permission at synth time`);
  }
  const address = /<([^<>]+)>\s*$/.exec(value)?.[1] ?? value;
  const trimmed = address.trim();
  if (!ADDRESS.test(trimmed)) {
    throw new Error(`email.${field}: "${value}" is not an email address; use "billing@acme.com" or "Acme <billing@acme.com>"`);
  }
  return trimmed;
}
