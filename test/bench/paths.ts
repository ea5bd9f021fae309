// Section 4's measurements: one case down each path of the default policy, one at a time, counting
// what AWS would bill for it: states entered (from the definition), Lambda invocations, DynamoDB
// request units, SES emails. The states walked must match the tasks the local engine really ran.
import { createRequire } from 'node:module';
import type Stripe from 'stripe';
import type { Runtime, TaskEvent } from '#local/runtime.ts';
import { paidChoiceName, waitStateName, type StateMachineDefinition } from '#shared/workflow/definition.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HANDLED_EVENT_TYPES } from '#shared/dunning/handled-events.ts';
import { closedCase, putInWorkingCard, renew, subscribeWithDecliningCard, waitFor, type Subscriber } from '../fixtures/scenario.ts';
import { countDynamoCalls, emitResult, startBenchRuntime, type DynamoTally } from './lib.ts';
import { stripeEndpointOf } from '#shared/adapters/request-pacer.ts';
import { walkPath, type PathSpec } from './transitions.ts';

const DAY_MS = Number(process.env.BENCH_PATHS_DAY_MS ?? 400);

export interface PathMeasurement {
  path: string;
  /** What the case ended as in the local run. */
  status: string;
  states: string[];
  transitions: number;
  /** Task states the local engine ran, in order; must equal the Task states of `states`. */
  tasksRun: string[];
  matchesEngine: boolean;
  invocations: Record<string, number>;
  dynamo: DynamoTally;
  emails: number;
  /** The product's own Stripe requests on the path, by function and endpoint (absent in runs before they were counted). */
  stripeRequests?: string[];
}

interface PathPlan {
  path: string;
  spec: PathSpec;
  /** After this Task state finishes, `act` runs before the execution moves on. */
  after?: string;
  act?: (stripe: Stripe, customerId: string, invoiceId: string) => Promise<unknown>;
}

const holder: { stripe?: Stripe; runtime?: Runtime; paused?: <T>(act: () => Promise<T>) => Promise<T> } = {};

const ACTION_FUNCTION: Record<string, string> = { notice: 'send-notice', retry: 'retry-payment', recover: 'close-case', terminate: 'close-case' };

/** Every path of the definition a case can take without a fault: recovered at or paid before each retry, or terminated. */
export function plansFor(definition: StateMachineDefinition): PathPlan[] {
  const retries = Object.keys(definition.States).filter((name) => definition.States[paidChoiceName(name)]?.Type === 'Choice');
  const declineAll = (_: string, choice: { Default?: string }) => choice.Default!;
  const terminated = walkPath(definition, { choose: declineAll });
  const taskBefore = (state: string) => {
    const before = terminated.slice(0, terminated.indexOf(state)).filter((s) => definition.States[s]?.Type === 'Task');
    const last = before.at(-1);
    if (!last) throw new Error(`no Task runs before ${state}: the bench cannot act there`);
    return last;
  };
  const plans: PathPlan[] = [];
  for (const retry of retries) {
    plans.push({
      path: `recovered at ${retry}`,
      spec: { choose: (name, choice) => (name === paidChoiceName(retry) ? choice.Choices[0]!.Next : choice.Default!) },
      after: taskBefore(retry),
      // The card-update events are lost, so only the scheduled retry can notice the new card (a
      // delivered payment_method.attached charges it at once: that is the "paid during" path).
      act: (stripe, customerId) => holder.paused!(() => putInWorkingCard(stripe, customerId)),
    });
    const wait = waitStateName(retry);
    if (definition.States[wait]) {
      plans.push({
        path: `paid during ${wait}`,
        spec: { choose: declineAll, stopIn: wait },
        after: taskBefore(wait),
        // The customer pays on the hosted invoice page: Stripe sends invoice.paid, the webhook closes the case.
        act: (stripe, _customerId, invoiceId) => stripe.invoices.pay(invoiceId, { payment_method: 'pm_card_visa' }),
      });
    }
  }
  plans.push({ path: 'terminated', spec: { choose: declineAll } });
  return plans;
}

async function main(): Promise<void> {
  let current: { plan: PathPlan; customerId: string; tasks: TaskEvent[] } | undefined;
  let webhooks = 0;
  const dynamo = countDynamoCalls();
  let stripeRequests: string[] = [];
  const stripeCallTap = { answered: (call: { functionName: string; method: string; path: string }) => void stripeRequests.push(`${call.functionName} ${stripeEndpointOf(call.method, call.path)}`) };
  const { runtime, stripe } = await startBenchRuntime(DAY_MS, {
    onTask: async (event) => {
      if (!current) return;
      current.tasks.push(event);
      const stage = (event.input as { stage?: string }).stage;
      if (current.plan.after && stage === current.plan.after && !event.error) {
        await current.plan.act!(holder.stripe!, current.customerId, (event.input as { invoiceId: string }).invoiceId);
      }
    },
  }, { awsCallTap: dynamo.tap, stripeCallTap });
  // The endpoint as the README says to configure it in Stripe: only HANDLED_EVENT_TYPES reach the
  // webhook (the sandbox sends every type). Deliveries pass through unchanged, signature and all.
  const handled = new Set<string>(HANDLED_EVENT_TYPES);
  const endpoint = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = (JSON.parse(body.toString('utf8')) as { type: string }).type;
      if (!handled.has(type)) return void res.writeHead(200).end('{}');
      webhooks++;
      void fetch(runtime.urls.webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': String(req.headers['stripe-signature']) },
        body,
      })
        .then(async (answer) => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text()))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  const target = { url: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/webhook`, secret: runtime.config.webhookSecret };
  runtime.sandbox!.setWebhook(target);
  holder.paused = async (act) => {
    runtime.sandbox!.setWebhook(undefined);
    try {
      const result = await act();
      await runtime.sandbox!.idle();
      return result;
    } finally {
      runtime.sandbox!.setWebhook(target);
    }
  };
  holder.stripe = stripe;
  holder.runtime = runtime;
  const sesStore = createRequire(import.meta.url)('aws-ses-v2-local/dist/store.js') as { getStoreReadonly(): { emails: unknown[] } };
  const results: PathMeasurement[] = [];
  // Warm containers, as a deployment that has run for a while has: a cold start on the first path
  // would let its invoice.paid reach the webhook before RecoverCase, which is another path.
  await runtime.lambda.warm();
  try {
    for (const plan of plansFor(runtime.definition)) {
      const subscriber: Subscriber = await holder.paused(() => subscribeWithDecliningCard(stripe, `Path ${results.length}`));
      await runtime.stepFunctions.idle();
      dynamo.reset();
      stripeRequests = [];
      webhooks = 0;
      const emailsBefore = sesStore.getStoreReadonly().emails.length;
      current = { plan, customerId: subscriber.customerId, tasks: [] };
      await renew(stripe, subscriber);
      const closed = await closedCase(runtime, subscriber.subscriptionId, 60_000);
      await waitFor(async () => {
        await runtime.stepFunctions.idle();
        await runtime.sandbox!.idle();
        // A stopped execution's stage may still be running, as in AWS: it belongs to this path.
        await runtime.lambda.idle();
        return true;
      }, 10_000, 'the runtime to go idle');
      // Late deliveries (e.g. customer.subscription.deleted after Terminate) are part of the path.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await runtime.sandbox!.idle();

      const states = walkPath(runtime.definition, plan.spec);
      const tasksRun = current.tasks.map((t) => taskStateOf(runtime.definition, t));
      const expectedTasks = states.filter((s) => runtime.definition.States[s]?.Type === 'Task');
      // Each delivery the webhook stores is routed by one invocation of route-events behind the queue
      // (one message a batch at a path's pace).
      const invocations: Record<string, number> = { 'handle-webhook': webhooks, 'route-events': webhooks };
      for (const task of current.tasks as TaskEvent[]) {
        const fn = ACTION_FUNCTION[(task.input as { action: string }).action] ?? 'unknown';
        invocations[fn] = (invocations[fn] ?? 0) + 1;
      }
      const result: PathMeasurement = {
        path: plan.path,
        status: closed.status,
        states,
        transitions: states.length,
        tasksRun,
        matchesEngine: JSON.stringify(tasksRun) === JSON.stringify(expectedTasks),
        invocations,
        dynamo: dynamo.snapshot(),
        emails: sesStore.getStoreReadonly().emails.length - emailsBefore,
        stripeRequests: [...stripeRequests],
      };
      current = undefined;
      results.push(result);
      console.log(`  ${plan.path}: ${closed.status}, ${states.length} transitions, ${result.emails} emails, ${result.dynamo.writeUnits} WRU / ${result.dynamo.readUnits} RRU, engine ${result.matchesEngine ? 'agrees' : `ran ${tasksRun.join(',')}`}`);
    }
    emitResult(results);
  } finally {
    endpoint.close();
    await runtime.close();
  }
}

/** The Task state a task event came from: a stage by its id, the close-case actions by their state. */
function taskStateOf(definition: StateMachineDefinition, event: TaskEvent): string {
  const input = event.input as { action: string; stage?: string };
  if (input.stage) return input.stage;
  const found = Object.entries(definition.States).find(
    ([, state]) => state.Type === 'Task' && (state.Parameters as { action?: string } | undefined)?.action === input.action,
  );
  return found?.[0] ?? input.action;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
  process.exit(0);
}
