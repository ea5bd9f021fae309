// Error names are an API: Lambda reports an error's `name` as its type, and the state machine's Retry
// and Catch lists, the routers' checks and the local timeline match it. Each class owns its name, and
// every list takes it from the class, so a renamed class cannot leave a stale string behind.
import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { describe, expect, it } from 'vitest';
import * as errors from '#shared/domain/errors.ts';

type ErrorClass = new (...args: string[]) => Error;
const errorClasses = (Object.entries(errors) as Array<[string, unknown]>).filter(
  (entry): entry is [string, ErrorClass] => typeof entry[1] === 'function' && (entry[1] as ErrorClass).prototype instanceof Error,
);

describe('error names', () => {
  it.each(errorClasses)('%s reports its own class name as its name', (exported, ErrorClass) => {
    const instance = new ErrorClass('in_1', 'paid');
    expect(ErrorClass.name).toBe(exported);
    expect(instance.name).toBe(exported);
  });

  it('lists only names of the product’s own error classes as transient or permanent', () => {
    const names = new Set(errorClasses.map(([name]) => name));
    for (const name of [...errors.TRANSIENT_ERRORS, ...errors.PERMANENT_ERRORS]) expect(names).toContain(name);
  });

  it('names Powertools’ in-progress error as Powertools does', () => {
    expect(new IdempotencyAlreadyInProgressError('in progress').name).toBe(errors.IDEMPOTENCY_IN_PROGRESS_ERROR);
  });
});
