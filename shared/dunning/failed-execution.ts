// Flags the case of an execution that failed for good: a stage failed after its retries, or the
// execution timed out. Step Functions says so with its "Execution Status Change" event (EventBridge
// in AWS, the local engine's end locally); the execution stays failed at that stage, so an operator
// can fix the cause and redrive it (shared/dunning/operator.ts).
import * as z from '../zod.ts';
import type { Cases, Clock, Log, MetricsSink, Timeline, Workflow } from '../domain/ports.ts';
import { InvalidInputError } from '../domain/errors.ts';
import { flagCase } from './close.ts';

export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';

/** The statuses the rule forwards: an execution stopped by the product (ABORTED) is never a failure. */
export const FLAGGED_STATUSES = ['FAILED', 'TIMED_OUT'] as const;

/** The event as EventBridge delivers it (the fields this module reads, and the rest it may carry). */
export interface ExecutionStatusChangeEvent {
  version: string;
  id: string;
  'detail-type': typeof EXECUTION_STATUS_CHANGE;
  source: 'aws.states';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: string;
    /** Epoch milliseconds. */
    startDate: number;
    stopDate: number | null;
    /** Left out (null, `inputDetails.included` false) when input and output pass 248 KB. */
    input: string | null;
    inputDetails: { included: boolean } | null;
    output: string | null;
    outputDetails: { included: boolean } | null;
    error: string | null;
    cause: string | null;
    /** Times the execution had been redriven when this status was reached. */
    redriveCount: number;
    redriveDate: number | null;
    redriveStatus: string;
    redriveStatusReason?: string;
  };
}

const nonEmpty = z.string().check(z.minLength(1));

const EventSchema = z.object({
  'detail-type': z.literal(EXECUTION_STATUS_CHANGE),
  source: z.literal('aws.states'),
  detail: z.object({
    executionArn: nonEmpty,
    stateMachineArn: nonEmpty,
    name: nonEmpty,
    status: z.string(),
    stopDate: z.nullish(z.number()),
    input: z.nullish(z.string()),
    error: z.nullish(z.string()),
    cause: z.nullish(z.string()),
    redriveCount: z.nullish(z.int().check(z.minimum(0))),
  }),
});

const InputSchema = z.object({ invoiceId: z.string().check(z.startsWith('in_')) });

export interface FailedExecutionDeps {
  store: Cases & Timeline;
  workflow: Workflow;
  clock: Clock;
  log: Log;
  metrics: MetricsSink;
}

export type FailedExecutionResult =
  | { outcome: 'flagged'; invoiceId: string; state?: string }
  | { outcome: 'ignored'; reason: 'status' | 'other_state_machine' | 'stale' | 'not_open'; invoiceId?: string };

/**
 * Marks the execution's case needs_attention, with the failed state, error and cause on its
 * timeline, once: a repeated event, a case that is no longer open (paid, terminated, closed, already
 * flagged), and an event older than the execution's latest redrive change nothing.
 */
export async function flagFailedExecution(deps: FailedExecutionDeps, event: unknown): Promise<FailedExecutionResult> {
  const parsed = EventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidInputError(`not a Step Functions status change: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const { detail } = parsed.data;
  if (!(FLAGGED_STATUSES as readonly string[]).includes(detail.status)) return { outcome: 'ignored', reason: 'status' };
  // The rule names this state machine; the check keeps a shared event bus or a stray test event out.
  if (detail.executionArn !== deps.workflow.executionArn(detail.name)) return { outcome: 'ignored', reason: 'other_state_machine' };

  // EventBridge may deliver late or twice: act only while the execution is still in the failure
  // this event reports, not after an operator redrove it. A redrive is what moves redriveCount (or
  // holds the execution PENDING_REDRIVE); DescribeExecution is eventually consistent, so a status
  // that still reads RUNNING at the same count is lag, not a redrive, and the failure stands.
  const now = await deps.workflow.describe(detail.executionArn);
  const eventRedrives = detail.redriveCount ?? 0;
  if (!now || now.status === 'PENDING_REDRIVE' || now.redriveCount !== eventRedrives) {
    deps.log.info('stale execution status event; not flagged', { executionName: detail.name, status: now?.status, redriveCount: now?.redriveCount, eventRedrives });
    return { outcome: 'ignored', reason: 'stale' };
  }

  const input = InputSchema.safeParse(JSON.parse(detail.input ?? now.input ?? '{}'));
  if (!input.success) throw new InvalidInputError(`execution ${detail.name} has no invoiceId in its input`);
  const { invoiceId } = input.data;
  const dunningCase = await deps.store.getCase(invoiceId);
  // Reopened by a redrive after this execution stopped: the event predates it.
  if (dunningCase?.reopenedAt && detail.stopDate && Date.parse(dunningCase.reopenedAt) >= detail.stopDate) {
    return { outcome: 'ignored', reason: 'stale', invoiceId };
  }
  if (dunningCase && dunningCase.status !== 'open') return { outcome: 'ignored', reason: 'not_open', invoiceId };

  const state = await deps.workflow.lastState(detail.executionArn);
  const error = describeExecutionError(detail.error ?? now.error, detail.cause ?? now.cause, detail.status);
  const flagged = await flagCase(deps, invoiceId, error, state);
  return flagged ? { outcome: 'flagged', invoiceId, ...(state ? { state } : {}) } : { outcome: 'ignored', reason: 'not_open', invoiceId };
}

/**
 * The execution's error and cause as the case records them. A failed Task's cause is the Lambda's
 * JSON error ({ errorType, errorMessage, trace }): keep its message, never the stack.
 */
export function describeExecutionError(error: string | null | undefined, cause: string | null | undefined, status: string): { name: string; message: string } {
  const name = error || (status === 'TIMED_OUT' ? 'States.Timeout' : 'UnknownError');
  let message = cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // The cause was plain text.
  }
  return { name, message: message.slice(0, 1000) };
}
