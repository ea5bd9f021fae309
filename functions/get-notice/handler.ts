// My Account banner API: GET /customers/{id}/notice answers the customer's current banner, or 204.
import type { APIGatewayProxyStructuredResultV2 as FunctionUrlResponse, LambdaFunctionURLEvent } from 'aws-lambda';
import { currentBanner, type BannerReader } from '#shared/dunning/current-banner.ts';
import { bannerReader } from '#functions/_runtime/table-deps.ts';
import { instrument } from '#functions/_runtime/powertools.ts';

const PATH = /^\/customers\/(cus_[A-Za-z0-9]+)\/notice\/?$/;

export function createHandler(store: () => Promise<BannerReader>) {
  return async (event: LambdaFunctionURLEvent): Promise<FunctionUrlResponse> => {
    const method = event.requestContext?.http?.method ?? 'GET';
    if (method !== 'GET') return json(405, { error: 'use GET' });
    const customerId = PATH.exec(event.rawPath ?? '')?.[1];
    if (!customerId) return json(404, { error: 'expected /customers/{cus_…}/notice' });
    const notice = await currentBanner(await store(), customerId);
    if (!notice) return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
    return json(200, notice);
  };
}

function json(statusCode: number, body: unknown): FunctionUrlResponse {
  return { statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

export const handler = instrument('get-notice', createHandler(bannerReader));
