// The Mailer on SES v2 SendEmail (simple content). Sorts SES failures into the two errors the state
// machine tells apart: throttled (retry later) and rejected (give up on this message).
import { SendEmailCommand, type MessageTag, type SESv2Client } from '@aws-sdk/client-sesv2';
import { EmailRejectedError, EmailThrottledError } from '../domain/errors.ts';
import type { RequestPacer } from './request-pacer.ts';
import type { EmailMessage, Mailer } from '../domain/ports.ts';
import { maskEmailAddresses } from '../domain/mask-email.ts';
import { errorName, httpStatusOf, isTransientAwsError, messageOf } from './aws-errors.ts';

export interface SesMailerOptions {
  /** The From address, e.g. "Acme Billing <billing@acme.example>"; its domain must be verified. */
  sender: string;
  replyTo?: readonly string[];
  /** The configuration set whose event destinations receive bounces, complaints and deliveries. */
  configurationSet?: string;
}

/** SES's answers that say this message will never go out, however often it is retried. */
const REJECTED = new Set([
  'MessageRejected',
  'AccountSuspendedException',
  'SendingPausedException',
  'MailFromDomainNotVerifiedException',
  'NotFoundException',
  'BadRequestException',
]);

const CHARSET = 'UTF-8';
const TAG_MAX = 256;

/** SES allows only ASCII letters, digits, `_` and `-` in tag names and values, up to 256 chars. */
export function sanitizeTag(value: string): string {
  const clean = value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, TAG_MAX);
  return clean === '' ? '_' : clean;
}

export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESv2Client,
    private readonly options: SesMailerOptions,
  ) {}

  async send(message: EmailMessage): Promise<{ messageId: string }> {
    const tags: MessageTag[] = Object.entries(message.tags).map(([name, value]) => ({
      Name: sanitizeTag(name),
      Value: sanitizeTag(value),
    }));
    const command = new SendEmailCommand({
      FromEmailAddress: this.options.sender,
      Destination: { ToAddresses: [message.to] },
      ReplyToAddresses: this.options.replyTo?.length ? [...this.options.replyTo] : undefined,
      Content: {
        Simple: {
          Subject: { Data: message.subject, Charset: CHARSET },
          Body: {
            Text: { Data: message.text, Charset: CHARSET },
            Html: { Data: message.html, Charset: CHARSET },
          },
        },
      },
      ConfigurationSetName: this.options.configurationSet,
      EmailTags: tags.length > 0 ? tags : undefined,
    });
    try {
      const out = await this.client.send(command);
      if (!out.MessageId) throw new EmailThrottledError('SES accepted the message but returned no MessageId');
      return { messageId: out.MessageId };
    } catch (err) {
      throw toMailerError(err);
    }
  }
}

function toMailerError(err: unknown): unknown {
  if (err instanceof EmailThrottledError || err instanceof EmailRejectedError) return err;
  const name = errorName(err);
  const detail = `SES ${name || 'error'}${httpStatusOf(err) ? ` (${httpStatusOf(err)})` : ''}: ${maskEmailAddresses(messageOf(err))}`;
  // No `cause`: the SDK error's message may hold the recipient's address, and loggers print causes.
  if (REJECTED.has(name)) return new EmailRejectedError(detail);
  if (isTransientAwsError(err)) return new EmailThrottledError(detail);
  return err;
}

/**
 * `mailer`, with each email waiting for its place in the email budget first (RequestPacer): SES's
 * maximum send rate is per account, whichever function sends.
 */
export function pacedMailer(mailer: Mailer, pacer: Pick<RequestPacer, 'acquire'>): Mailer {
  return {
    async send(message) {
      await pacer.acquire();
      return mailer.send(message);
    },
  };
}
