// Stripe's error envelope and the status codes the SDK maps to its error classes
// (400/404 invalid request, 401 auth, 402 card, 429 rate limit, 5xx api error).

export type StripeErrorType =
  | 'invalid_request_error'
  | 'card_error'
  | 'api_error'
  | 'idempotency_error';

export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
  request_log_url?: string;
  charge?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
  advice_code?: string;
  network_advice_code?: string;
  network_decline_code?: string;
}

export class StripeApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  constructor(status: number, body: StripeErrorBody) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;
}

export function invalidRequest(message: string, extra: { param?: string; code?: string; status?: number } = {}): StripeApiError {
  const body: StripeErrorBody = { type: 'invalid_request_error', message };
  if (extra.code) {
    body.code = extra.code;
    body.doc_url = docUrl(extra.code);
  }
  if (extra.param) body.param = extra.param;
  return new StripeApiError(extra.status ?? 400, body);
}

/**
 * An unknown `Stripe-Version`: a 400 invalid_request_error without a code, as Stripe answers it
 * (e.g. stripe-samples/link#58, beam-community/stripity-stripe#613: "Invalid Stripe API version: …").
 */
export function invalidApiVersion(version: string): StripeApiError {
  return invalidRequest(`Invalid Stripe API version: ${version}`);
}

export function missingParam(param: string): StripeApiError {
  return invalidRequest(`Missing required param: ${param}.`, { param, code: 'parameter_missing' });
}

export function invalidParam(param: string, message: string, code = 'parameter_invalid'): StripeApiError {
  return invalidRequest(message, { param, code });
}

/**
 * Paying (or starting a subscription) with nothing to charge: no payment method named, none on the
 * invoice or subscription, and no customer default. Stripe's message; its code is the generic
 * `resource_missing`, without a `param`.
 */
export function noPaymentMethod(): StripeApiError {
  return invalidRequest(
    'This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.',
    { code: 'resource_missing' },
  );
}

/** Charging a card that was detached from its customer: Stripe's message, with no code or param. */
export function detachedPaymentMethod(): StripeApiError {
  return invalidRequest(
    'The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.',
  );
}

export function resourceMissing(kind: string, id: string, param = 'id'): StripeApiError {
  return invalidRequest(`No such ${kind}: '${id}'`, { param, code: 'resource_missing', status: 404 });
}

export function unrecognizedUrl(method: string, path: string): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  });
}

export function authenticationError(key: string | null): StripeApiError {
  const message =
    key === null
      ? "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
      : `Invalid API Key provided: ${maskKey(key)}`;
  return new StripeApiError(401, { type: 'invalid_request_error', message });
}

function maskKey(key: string): string {
  if (key.length <= 12) return key.replace(/.(?=.{4})/g, '*');
  return `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;
}

/**
 * A 429 is Stripe's `invalid_request_error` with the code `rate_limit` (its documented error types have
 * no rate-limit type; a rate-limited response as public reports show it, e.g. codecombat#2588); the
 * SDK maps it to `StripeRateLimitError` by its status.
 */
export function faultError(status: 429 | 500 | 502 | 503): StripeApiError {
  if (status === 429) {
    return new StripeApiError(429, {
      type: 'invalid_request_error',
      code: 'rate_limit',
      doc_url: docUrl('rate_limit'),
      message: 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
    });
  }
  return new StripeApiError(status, {
    type: 'api_error',
    message:
      "Sorry, something went wrong. We've already been notified of the problem, but if you need any help, you can reach out to support at https://support.stripe.com/.",
  });
}

export function idempotencyMismatch(key: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });
}

export function idempotencyEndpointMismatch(key: string, first: string, now: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${first}' vs '${now}'). Try using a key other than '${key}' if you meant to execute a different request.`,
  });
}

/**
 * `invoices.pay` when the bank wants the customer to authenticate (3-D Secure): a 402 card error with
 * the code `invoice_payment_intent_requires_action` (docs.stripe.com/error-codes), not a decline, so
 * no `decline_code`, charge or payment intent in the body; the invoice's payment intent waits in
 * `requires_action`. Stripe's wording, as its API returns it (stripe/stripe-node#628).
 */
export function invoiceRequiresAction(): StripeApiError {
  return requiresAction(
    'invoice_payment_intent_requires_action',
    'This payment requires additional user action before it can be completed successfully. Payment can be completed using the PaymentIntent associated with the invoice. For more details see: https://stripe.com/docs/billing/subscriptions/payment#handling-action-required',
  );
}

/** The same when creating a subscription with `payment_behavior=error_if_incomplete`. */
export function subscriptionRequiresAction(): StripeApiError {
  return requiresAction(
    'subscription_payment_intent_requires_action',
    'Payment for this subscription requires additional user action before it can be completed successfully. Payment can be completed using the PaymentIntent associated with `subscription.latest_invoice`. Additional information is available here: https://stripe.com/docs/billing/subscriptions/overview#requires-action',
  );
}

/** A 402 card error that is not a decline: no `decline_code`, charge or payment intent in the body. */
function requiresAction(code: string, message: string): StripeApiError {
  return new StripeApiError(402, { type: 'card_error', code, doc_url: docUrl(code), message });
}

export function cardError(fields: {
  message: string;
  code: string;
  decline_code: string;
  advice_code?: string | null;
  network_advice_code?: string | null;
  network_decline_code?: string | null;
  charge?: string;
  payment_intent?: unknown;
  payment_method?: unknown;
  param?: string;
}): StripeApiError {
  const body: StripeErrorBody = {
    type: 'card_error',
    code: fields.code,
    decline_code: fields.decline_code,
    doc_url: docUrl(fields.code),
    message: fields.message,
  };
  // The issuer's advice, the network's advice and its code, when the decline carries them (as the
  // charge's outcome does); Stripe leaves out what a decline has no value for.
  if (fields.advice_code) body.advice_code = fields.advice_code;
  if (fields.network_advice_code) body.network_advice_code = fields.network_advice_code;
  if (fields.network_decline_code) body.network_decline_code = fields.network_decline_code;
  if (fields.charge) body.charge = fields.charge;
  if (fields.param) body.param = fields.param;
  if (fields.payment_intent !== undefined) body.payment_intent = fields.payment_intent;
  if (fields.payment_method !== undefined) body.payment_method = fields.payment_method;
  return new StripeApiError(402, body);
}
