// Validates what the state machine passes to a stage function, so a wiring mistake fails loudly
// with InvalidInputError (never retried) instead of acting on the wrong case.
import * as z from '../zod.ts';
import { InvalidInputError } from '../domain/errors.ts';
import { PolicyNameSchema } from '../policy/segments.ts';
import { RECOVERY_ROUTES } from '../domain/case.ts';
import { STAND_DOWN_RETURN } from './stand-down.ts';

const invoiceId = z.string().check(z.startsWith('in_'));
const stage = z.string().check(z.regex(/^[A-Z][A-Za-z0-9]{0,39}$/));
/** Set by a definition of several policies (the task's own policy); absent means `default`. */
const policy = z.optional(PolicyNameSchema);
/**
 * Set by a definition that branches on the stage's result: a paused or closed case is returned, not
 * thrown. Absent in the Tasks of an earlier definition, whose executions still run (shared/workflow/stand-down.ts).
 */
const standDown = z.optional(z.literal(STAND_DOWN_RETURN));
/** RecoverCase's copy of the retry's result: how the invoice was paid. Absent before it was passed. */
const retry = z.optional(z.object({ recoveredBy: z.optional(z.enum(RECOVERY_ROUTES)) }));

/**
 * What the state machine passes a stage function; each carries its stage, so one function serves
 * many states. RecoverCase gets the paid retry's result (`retry`), to record how the invoice was paid.
 */
export const StageTaskInputSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('notice'), invoiceId, stage, policy, standDown }),
  z.object({ action: z.literal('retry'), invoiceId, stage, policy, standDown }),
  z.object({ action: z.literal('recover'), invoiceId, policy, retry }),
  z.object({ action: z.literal('terminate'), invoiceId, policy, standDown }),
  z.object({
    action: z.literal('flag'),
    invoiceId,
    error: z._default(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) }), {}),
  }),
]);
export type ParsedStageTaskInput = z.infer<typeof StageTaskInputSchema>;

export function parseTaskInput<A extends ParsedStageTaskInput['action']>(
  event: unknown,
  ...actions: A[]
): Extract<ParsedStageTaskInput, { action: A }> {
  const result = StageTaskInputSchema.safeParse(event);
  if (!result.success) {
    throw new InvalidInputError(`bad stage input: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  if (!(actions as string[]).includes(result.data.action)) {
    throw new InvalidInputError(`this function handles ${actions.join('/')}, not "${result.data.action}"`);
  }
  return result.data as Extract<ParsedStageTaskInput, { action: A }>;
}

/** Step Functions hands a caught error over as {Error, Cause}; Cause is often the Lambda's JSON. */
export function describeCaughtError(error: { Error?: string; Cause?: string }): { name: string; message: string } {
  const name = error.Error ?? 'UnknownError';
  let message = error.Cause ?? '';
  try {
    const cause = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // Cause was plain text.
  }
  return { name, message: message.slice(0, 1000) };
}
