// Stripe's webhook endpoint behind a Lambda Function URL: raw body in, verified event stored in the
// event queue, 200 out. route-events routes it behind the queue, in order per customer.
import type { APIGatewayProxyStructuredResultV2 as FunctionUrlResponse, Context, LambdaFunctionURLEvent } from 'aws-lambda';
import type { WebhookDeps } from '#shared/dunning/webhook.ts';
import { receiveWebhook } from '#shared/dunning/webhook.ts';
import { webhookDeps } from '#functions/_runtime/webhook-deps.ts';
import { instrument } from '#functions/_runtime/powertools.ts';

export function createHandler(deps: () => Promise<WebhookDeps>) {
  return async (event: LambdaFunctionURLEvent, _context?: Context): Promise<FunctionUrlResponse> => {
    const d = await deps();
    // The signature covers the exact bytes Stripe sent, so the body is never re-serialized.
    const rawBody = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    const signature = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'stripe-signature')?.[1];
    const response = await receiveWebhook(d, {
      method: event.requestContext?.http?.method ?? 'POST',
      rawBody,
      signature,
    });
    return {
      statusCode: response.statusCode,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(response.body),
    };
  };
}

export const handler = instrument('handle-webhook', createHandler(webhookDeps));
