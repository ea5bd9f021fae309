// How long an operator's pause may last and how often a paused stage looks again: the pause
// (shared/dunning/pause.ts) and the state machine's timeout and Waits (shared/workflow/definition.ts)
// must agree on them, so they live below both.

/**
 * The longest a case can be paused, counted from when it opened. The state machine's timeout (and
 * the earlier definition's pause retrier) allow the policy plus this much, so a pause can never time
 * the execution out. (Counting from the case's start rather than from each pause keeps that true
 * however many times a case is paused.)
 */
export const PAUSE_CAP_DAYS = 30;
/** How often a paused stage looks again, in policy time: the `<stage>Paused` Wait. */
export const PAUSE_POLL_SECONDS = 3600;
