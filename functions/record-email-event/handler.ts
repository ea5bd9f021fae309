// SES event destination (through SNS): records deliveries, bounces, complaints and rejects on the
// case timeline, and suppresses addresses that hard-bounced or complained.
import type { SNSEvent } from 'aws-lambda';
import { recordSnsMessage, type EmailEventDeps, type EmailEventResult } from '#shared/dunning/email-events.ts';
import { emailEventDeps } from '#functions/_runtime/table-deps.ts';
import { instrument } from '#functions/_runtime/powertools.ts';

export function createHandler(deps: () => Promise<EmailEventDeps>) {
  return async (event: SNSEvent): Promise<EmailEventResult[]> => {
    const d = await deps();
    const records = Array.isArray(event?.Records) ? event.Records : [];
    if (records.length === 0) return [await recordSnsMessage(d, undefined)];
    // A store failure throws: Lambda retries the async invocation, then sends it to the DLQ.
    const results: EmailEventResult[] = [];
    for (const record of records) results.push(await recordSnsMessage(d, record?.Sns?.Message));
    return results;
  };
}

export const handler = instrument('record-email-event', createHandler(emailEventDeps));
