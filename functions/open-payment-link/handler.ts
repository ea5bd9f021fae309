// The one-click "update payment details" link: GET /u/{token} answers 302 to a fresh Stripe billing
// portal session, or a friendly page. Public (the customer's browser calls it), so nothing it
// answers may reveal more than the token already proves: never a stack trace, never another portal.
import type { APIGatewayProxyStructuredResultV2 as FunctionUrlResponse, LambdaFunctionURLEvent } from 'aws-lambda';
import { openPaymentLink, type PaymentLinkDeps } from '#shared/dunning/payment-link.ts';
import { renderLinkPage, type LinkPage } from '#shared/links/pages.ts';
import { paymentLinkDeps } from '#functions/_runtime/payment-link-deps.ts';
import { instrument, logger } from '#functions/_runtime/powertools.ts';

const PATH = /^\/u\/([A-Za-z0-9_.-]{1,512})\/?$/;

/** Used for a page when even the deps could not be built (the policy's values are unknown then). */
const FALLBACK = { brandName: 'Billing', myAccountUrl: '' };

export function createHandler(deps: () => Promise<PaymentLinkDeps & { brandName: string }>) {
  return async (event: LambdaFunctionURLEvent): Promise<FunctionUrlResponse> => {
    let brand = FALLBACK;
    try {
      const resolved = await deps();
      brand = { brandName: resolved.brandName, myAccountUrl: resolved.myAccountUrl };
      const method = event.requestContext?.http?.method ?? 'GET';
      const token = PATH.exec(event.rawPath ?? '')?.[1];
      if ((method !== 'GET' && method !== 'HEAD') || !token) return page('invalid', brand);
      const outcome = await openPaymentLink(resolved, token);
      if (outcome.kind === 'page') return page(outcome.page, brand);
      return {
        statusCode: 302,
        headers: { location: outcome.url, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
        body: '',
      };
    } catch (error) {
      // Stripe or DynamoDB down, a missing secret: logged for us, a calm page for the customer.
      logger.error('payment link failed', { error: error as Error });
      return page('unavailable', brand);
    }
  };
}

function page(name: LinkPage, brand: { brandName: string; myAccountUrl: string }): FunctionUrlResponse {
  const rendered = renderLinkPage(name, brand);
  return { statusCode: rendered.status, headers: rendered.headers, body: rendered.body };
}

export const handler = instrument('open-payment-link', createHandler(paymentLinkDeps));
