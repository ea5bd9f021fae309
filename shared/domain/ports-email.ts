// The email port: one message out through SES v2 (shared/adapters/ses-mailer.ts), failing in the two
// ways a stage tells apart (domain/errors.ts).

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Short tags for the SES configuration set's event destinations (stage, case). */
  tags: Record<string, string>;
}

export interface Mailer {
  /** Throws EmailThrottledError (retry) or EmailRejectedError (give up on this message). */
  send(message: EmailMessage): Promise<{ messageId: string }>;
}
