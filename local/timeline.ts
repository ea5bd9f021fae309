// Prints what the runtime does as one readable line per step: day, customer, stage, email, case status.
import type { DunningCase, TimelineEntry } from '#shared/domain/case.ts';
import { OPERATOR_STAGE } from '#shared/dunning/operator.ts';
import { CaseClosedError } from '#shared/domain/errors.ts';
import { executionArnFor } from '#shared/adapters/sfn-workflow.ts';
import { LOCAL_STATE_MACHINE_ARN, type Runtime, type RuntimeEvents } from './runtime.ts';

export type Print = (line: string) => void;

export function timelineHeader(): string {
  return `${'day'.padStart(5)}  ${'customer'.padEnd(16)} ${'stage'.padEnd(12)} ${'what happened'.padEnd(58)} case`;
}

/** Events for startRuntime that print the timeline; `runtime` is filled in once it has started. */
export function timelinePrinter(print: Print, holder: { runtime?: Runtime }): RuntimeEvents {
  const dayOf = (invoiceId: string): string => {
    const runtime = holder.runtime;
    const execution = runtime?.stepFunctions.executions.get(executionArnFor(LOCAL_STATE_MACHINE_ARN, invoiceId));
    if (!runtime || !execution) return '';
    return ((Date.now() - execution.startDate.getTime()) / runtime.config.dayMs).toFixed(1);
  };
  const line = (day: string, c: DunningCase | undefined, stage: string, what: string) =>
    print(`${day.padStart(5)}  ${(c?.customerName ?? c?.customerId ?? '?').slice(0, 16).padEnd(16)} ${stage.padEnd(12)} ${what.padEnd(58)} ${c?.status ?? ''}`);

  return {
    onTask: ({ state, input, output, error }) => {
      const invoiceId = (input as { invoiceId: string }).invoiceId;
      void (async () => {
        const store = holder.runtime?.store;
        if (!store) return;
        const c = await store.getCase(invoiceId);
        // A policy stage runs on its policy day; anything else is placed by the compressed clock.
        const runtime = holder.runtime!;
        const policy = runtime.policies.policies[c?.policy ?? ''] ?? runtime.policy;
        const stageDay = state === 'terminate' ? policy.end.day : policy.stages.find((s) => s.id === state)?.day;
        // A stage anchors the case's clock at the moment it was due: a retry the rules moved shows its own day.
        const anchored = c?.clockAnchor && policy.stages.some((s) => s.id === state && s.type === 'retry')
          ? (Date.parse(c.clockAnchor.business) - Date.parse(c.failedAt)) / 86_400_000
          : undefined;
        const day = anchored !== undefined ? anchored.toFixed(1) : stageDay !== undefined ? stageDay.toFixed(1) : dayOf(invoiceId);
        if (error) {
          const what = error.name === CaseClosedError.name ? 'stands down: the case is closed' : `failed: ${error.name}: ${error.message}`;
          return line(day, c, state, what);
        }
        const result = output as { outcome?: string; code?: string; status?: string; recoveredBy?: string };
        if (result.outcome === 'closed') return line(day, c, state, 'stands down: the case is closed');
        if (result.outcome === 'paused') return line(day, c, state, 'waits: the case is paused');
        if (state === 'recover' || state === 'terminate') {
          const timeline = await store.listTimeline(invoiceId);
          const email = [...timeline].reverse().find((e) => e.type === 'notice_sent');
          const label = state === 'recover' ? 'RecoverCase' : 'Terminate';
          return line(day, c, label, email ? `✉ ${email.detail}` : `case ${result.status}`);
        }
        if (result.outcome === 'paid' && result.recoveredBy && result.recoveredBy !== 'workflow_retry') {
          return line(day, c, state, `found paid already (${result.recoveredBy})`);
        }
        if (result.outcome === 'paid') return line(day, c, state, 'payment retried: paid');
        const timeline = await store.listTimeline(invoiceId);
        // The plan the stage made for the next retry, if it made one (`retry scheduled …`).
        const plan = () => {
          const last = timeline.at(-1);
          if (last?.type === 'retry_scheduled') line(day, c, last.stage ?? '', last.detail ?? '');
        };
        if (result.outcome === 'later') {
          const moved = [...timeline].reverse().find((e) => e.type === 'retry_scheduled' && e.stage === state);
          return line(day, c, state, moved?.detail ?? 'retry moved later');
        }
        if (result.outcome === 'declined' && result.code?.startsWith('skipped_')) {
          const skipped = [...timeline].reverse().find((e) => e.type === 'retry_skipped' && e.stage === state);
          line(day, c, state, skipped?.detail ?? 'retry skipped');
          return plan();
        }
        if (result.outcome === 'declined') {
          line(day, c, state, `payment retried: declined (${result.code})`);
          return plan();
        }
        if (result.outcome === 'sent') {
          const sent = [...timeline].reverse().find((e) => e.type === 'notice_sent' && e.stage === state);
          line(day, c, state, `✉ ${sent?.detail ?? ''}`);
          return plan();
        }
        if (result.outcome === 'early') return;
        return line(day, c, state, String(result.outcome ?? result.status ?? 'done'));
      })().catch((e: unknown) => print(`(timeline: ${(e as Error).message})`));
    },
    onOperatorEntry: ({ invoiceId, entry }) => {
      void holder.runtime?.store
        .getCase(invoiceId)
        .then((c) => line(dayOf(invoiceId), c, OPERATOR_STAGE, operatorWhat(entry)))
        .catch((e: unknown) => print(`(timeline: ${(e as Error).message})`));
    },
    onWebhook: ({ status, body }) => {
      if (status >= 400) print(`webhook answered ${status}: ${JSON.stringify(body)}`);
    },
    // The webhook answers once the event is in its queue; what it came to is known once routed.
    onRouted: ({ result: body }) => {
      const action = body.action as string | undefined;
      if (action === 'card_update_retried') {
        for (const { invoiceId, outcome } of body.outcomes as Array<{ invoiceId: string; outcome: string }>) {
          void (async () => {
            const c = await holder.runtime?.store.getCase(invoiceId);
            const what = outcome === 'paid' ? 'new card charged at once: paid; ✉ Thank you' : `new card charged at once: ${outcome}`;
            line(dayOf(invoiceId), c, 'CardUpdated', what);
          })();
        }
        return;
      }
      if (action === 'case_closed') {
        for (const invoiceId of body.invoiceIds as string[]) {
          void holder.runtime?.store.getCase(invoiceId).then((c) => line(dayOf(invoiceId), c, 'webhook', `closed: ${String(body.reason)}`));
        }
        return;
      }
      const invoiceId = body.invoiceId as string | undefined;
      if (!invoiceId || (action !== 'case_opened' && action !== 'case_recovered')) return;
      void (async () => {
        const c = await holder.runtime?.store.getCase(invoiceId);
        if (action === 'case_opened') return line('0.0', c, 'webhook', 'invoice.payment_failed: case opened');
        const timeline = (await holder.runtime?.store.listTimeline(invoiceId)) ?? [];
        const email = [...timeline].reverse().find((e) => e.type === 'notice_sent');
        line(dayOf(invoiceId), c, 'webhook', `invoice.paid: execution stopped; ✉ ${email?.detail ?? ''}`);
      })().catch((e: unknown) => print(`(timeline: ${(e as Error).message})`));
    },
  };
}

/** What an operator's timeline entry says on the live timeline: the act, then its detail. Pure. */
export function operatorWhat(entry: TimelineEntry): string {
  // Times to the minute, so a pause's date and its clock fit the column.
  const detail = entry.detail?.replace(/(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d(\.\d+)?Z/g, '$1 $2Z');
  switch (entry.type) {
    case 'paused':
    case 'resumed':
      return `${entry.type} ${detail ?? 'by operator'}`;
    case 'closed':
      return detail ?? 'closed by operator';
    default:
      return `${entry.type}${detail ? `: ${detail}` : ''}`;
  }
}
