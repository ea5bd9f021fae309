// The access API: GET /customers/{id}/access answers what the customer may use right now
// (shared/dunning/customer-access.ts). Same auth as the banner API: AWS_IAM on the Function URL.
import type { APIGatewayProxyStructuredResultV2 as FunctionUrlResponse, LambdaFunctionURLEvent } from 'aws-lambda';
import { customerAccessNow, type CustomerAccessDeps } from '#shared/dunning/customer-access.ts';
import { OverBudgetError, StripeRateLimitedError, StripeUnavailableError } from '#shared/domain/errors.ts';
import { accessDeps } from '#functions/_runtime/access-deps.ts';
import { instrument, logger } from '#functions/_runtime/powertools.ts';

const PATH = /^\/customers\/(cus_[A-Za-z0-9]+)\/access\/?$/;

export function createHandler(deps: () => Promise<CustomerAccessDeps>) {
  return async (event: LambdaFunctionURLEvent): Promise<FunctionUrlResponse> => {
    const method = event.requestContext?.http?.method ?? 'GET';
    if (method !== 'GET') return json(405, { error: 'use GET' });
    const customerId = PATH.exec(event.rawPath ?? '')?.[1];
    if (!customerId) return json(404, { error: 'expected /customers/{cus_…}/access' });
    try {
      return json(200, await customerAccessNow(await deps(), customerId));
    } catch (error) {
      // Only the list of the customer's other subscriptions needs Stripe: ask again in a moment. Also
      // when the request budget (or Stripe's own limit) has no room for it now.
      if (error instanceof StripeUnavailableError || error instanceof StripeRateLimitedError || error instanceof OverBudgetError) {
        logger.warn('Stripe unavailable or over budget; access not answered', { customerId, error: error.message, reason: error.name });
        return { ...json(503, { error: 'Stripe could not be reached to list the customer\'s subscriptions; try again' }), headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': '1' } };
      }
      throw error;
    }
  };
}

function json(statusCode: number, body: unknown): FunctionUrlResponse {
  return { statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

export const handler = instrument('get-access', createHandler(accessDeps));
