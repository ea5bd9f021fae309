// The small interfaces the dunning logic talks through, one per role, so a use case's signature
// names what it touches. AWS and the local runtime provide the same adapters (DynamoDB, SES v2,
// Stripe); only endpoints differ. Step Functions is behind `Workflow`. Each interface stays at 12
// members or fewer (test/unit/ports.test.ts).
//
// This file is the index: each role's ports live in a file of their own next to it.
export * from './ports-store.ts';
export * from './ports-stripe.ts';
export * from './ports-email.ts';
export * from './ports-workflow.ts';
export * from './ports-links.ts';
export * from './ports-observability.ts';
export * from './ports-clock.ts';
export * from './ports-events.ts';
export * from './ports-inbox.ts';
