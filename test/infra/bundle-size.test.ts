// Each function's bundle stays within a budget, so a change that drags a heavy dependency into a
// function (classic zod, another function's clients) fails here rather than in a cold start.
// Budgets are about 5% above the sizes when they were set; raise one only with a reason.
import { describe, expect, it } from 'vitest';
import type { DunningFunctionName } from '#infra/constructs/dunning-function.ts';
import { bundleFunction, bytesByPackage } from './bundle.ts';

const KB = 1024;
/** Minified index.mjs, source map aside. Measured: see BENCHMARKS.md section 3 for what fills them. */
const BUDGET_KB: Record<DunningFunctionName, number> = {
  // Verifies and stores only: two SigV4-signed requests (SQS, Secrets Manager), Powertools logger
  // and metrics, the config schema. No AWS SDK client, Stripe SDK, table, Step Functions, SES or
  // X-Ray SDK. 107 KB when set (440 with the SQS and Secrets Manager clients).
  'handle-webhook': 115,
  // The router behind the webhook's queue: what the webhook was (1,080 KB when set), with the
  // shared request budget (the pacer, its counter, the budget's schema).
  'route-events': 1_160,
  // Raised from 1,120 by the shared request budget: 1,123.
  'handle-eventbridge': 1_160,
  'send-notice': 1_025,
  'retry-payment': 1_025,
  'close-case': 1_025,
  'open-payment-link': 940,
  'get-notice': 610,
  'record-email-event': 615,
  'count-open-cases': 640,
  // The table and the Step Functions client (describe, history); 647 KB when set.
  'flag-case': 680,
  // The table and the EventBridge client.
  'publish-events': 660,
  // The table, the policies and the Stripe SDK (the customer's subscriptions).
  'get-access': 950,
};
/** The functions that only touch the table: no Stripe SDK, no SES, no Step Functions client (flag-case has that one). */
const TABLE_ONLY: DunningFunctionName[] = ['get-notice', 'record-email-event', 'count-open-cases'];

describe('the function bundles', () => {
  for (const [name, budget] of Object.entries(BUDGET_KB) as Array<[DunningFunctionName, number]>) {
    it(`keeps ${name} within ${budget} KB, without classic zod`, async () => {
      const bundle = await bundleFunction(name);

      const classicZod = Object.keys(bundle.inputs).filter((input) => /node_modules\/zod\/(v4\/classic|v3)\//.test(input));
      expect(classicZod, 'import schemas through shared/zod.ts (zod/mini), not from "zod"').toEqual([]);
      const largest = bytesByPackage(bundle).slice(0, 6).map((p) => `${p.source} ${Math.round(p.bytes / KB)} KB`).join(', ');
      expect(Math.round(bundle.bytes / KB), `largest parts: ${largest}`).toBeLessThanOrEqual(budget);
      if (name === 'flag-case') {
        expect(bytesByPackage(bundle).map((p) => p.source)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^(stripe|@aws-sdk\/client-sesv2)$/)]));
      }
      if (name === 'handle-webhook') {
        expect(bytesByPackage(bundle).map((p) => p.source)).not.toEqual(
          expect.arrayContaining([expect.stringMatching(/^(stripe|aws-xray-sdk-core|@aws-sdk\/.*|@aws-lambda-powertools\/(tracer|idempotency|parameters))$/)]),
        );
      }
      if (TABLE_ONLY.includes(name)) {
        expect(bytesByPackage(bundle).map((p) => p.source)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^(stripe|@aws-sdk\/client-(sesv2|sfn))$/)]));
      }
    });
  }
});
