// The Powertools tracer, apart from the logger and metrics: it brings the X-Ray SDK (about 75 KB and
// a share of the cold start), which the webhook, answering at wire speed, does without. Lambda's
// active tracing still records the webhook's invocation segment.
import { Tracer } from '@aws-lambda-powertools/tracer';

/** Off outside Lambda; in Lambda it traces the AWS SDK clients and Stripe's HTTPS calls. */
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'dunning' });
