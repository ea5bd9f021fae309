// One webhook endpoint's deliveries: its queue, its timers, its retries and what it still owes.
// Stripe delivers each event to each endpoint independently (a slow or failing endpoint delays
// nobody else), so the dispatcher (webhooks.ts) keeps one lane per endpoint, each with the same
// delivery semantics (`stripe` or `ordered`) and its own seeded draws.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { DeliveryOptions, RetryPolicy, WebhookTarget } from './webhooks.ts';

const REQUEST_TIMEOUT_MS = 10_000;

/** Stripe-Signature as Stripe computes it: HMAC-SHA256 of "<t>.<payload>" with the endpoint secret. */
export function signPayload(payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

export interface LaneOptions {
  /** The event's type and its JSON as sent. */
  getEvent: (id: string) => { type: string; payload: string } | undefined;
  /** The lane delivered the event (once per lane, however many copies of it land). */
  onDelivered: (id: string) => void;
  log: (line: string) => void;
  retry: RetryPolicy;
  delivery: DeliveryOptions;
  random: () => number;
  /** Something was delivered, given up or abandoned: the dispatcher may now be idle. */
  onSettled: () => void;
  /**
   * Render each event at the target's `apiVersion` (an endpoint made through the API, whose
   * version Stripe renders its events at). Off for the host's own target, whose events are sent
   * as recorded.
   */
  renderAtTargetVersion: boolean;
  /** Added to log lines after the event id, to say which endpoint they are about. */
  logSuffix: string;
}

interface Delivery {
  id: string;
  /** 1 for the first try; each retry adds one. */
  attempt: number;
}

export class Lane {
  private target: WebhookTarget | undefined;
  private enabled: ReadonlySet<string> | undefined;
  /** Ready to send (ordered mode: in creation order, the head is being sent). */
  private readonly queue: Delivery[] = [];
  /** Waiting for their latency or a retry (stripe mode). */
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Events queued here and not yet delivered: `onDelivered` fires once for each, on its first success. */
  private readonly undelivered = new Set<string>();
  private inFlight = 0;
  private pumping = false;
  private closed = false;
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private readonly opts: LaneOptions;

  constructor(opts: LaneOptions, target?: WebhookTarget) {
    this.opts = opts;
    this.setTarget(target);
  }

  get currentTarget(): WebhookTarget | undefined {
    return this.hasTarget ? this.target : undefined;
  }

  get hasTarget(): boolean {
    return this.target !== undefined && !this.closed;
  }

  /** Whether an event of `type` is sent here (so counts in its `pending_webhooks`). */
  wants(type: string): boolean {
    return this.hasTarget && (this.enabled === undefined || this.enabled.has(type));
  }

  setTarget(target: WebhookTarget | undefined): void {
    this.target = target;
    const enabled = target?.enabledEvents;
    this.enabled = enabled === undefined || enabled.includes('*') ? undefined : new Set(enabled);
    // Like deleting (or disabling) a Stripe endpoint: what was still queued or scheduled for it is abandoned.
    if (!target) this.abandon();
    this.opts.onSettled();
  }

  enqueue(eventId: string): void {
    this.undelivered.add(eventId);
    if (this.opts.delivery.mode === 'ordered') {
      this.queue.push({ id: eventId, attempt: 1 });
      // Delivery starts after the API response that caused the event has been written.
      setImmediate(() => void this.pumpOrdered());
      return;
    }
    const { duplicateRate, maxLatencyMs } = this.opts.delivery;
    this.later({ id: eventId, attempt: 1 }, this.opts.random() * maxLatencyMs);
    if (this.opts.random() < duplicateRate) this.later({ id: eventId, attempt: 1 }, this.opts.random() * maxLatencyMs * 4);
  }

  isIdle(): boolean {
    return this.queue.length === 0 && this.timers.size === 0 && this.inFlight === 0 && !this.pumping;
  }

  close(): void {
    this.closed = true;
    this.abandon();
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
    this.opts.onSettled();
  }

  private abandon(): void {
    this.queue.length = 0;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.undelivered.clear();
  }

  private delivered(id: string): void {
    if (this.undelivered.delete(id)) this.opts.onDelivered(id);
  }

  /** Queues `delivery` after `ms` (stripe mode). */
  private later(delivery: Delivery, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed || !this.target) return this.opts.onSettled();
      this.queue.push(delivery);
      this.pumpConcurrent();
    }, ms);
    this.timers.add(timer);
  }

  private pumpConcurrent(): void {
    const { concurrency } = this.opts.delivery;
    while (this.inFlight < concurrency && this.queue.length > 0 && !this.closed) {
      const delivery = this.queue.shift()!;
      this.inFlight += 1;
      void this.attempt(delivery).finally(() => {
        this.inFlight -= 1;
        this.pumpConcurrent();
        this.opts.onSettled();
      });
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const target = this.target;
    const event = this.opts.getEvent(delivery.id);
    if (!target || !event || this.closed) return;
    const outcome = await this.post(target, event);
    if (outcome === 'ok') {
      this.delivered(delivery.id);
      return;
    }
    const { retryAfterHours, hourMs, minRetryMs } = this.opts.delivery;
    const attempts = retryAfterHours.length + 1;
    const { logSuffix } = this.opts;
    this.opts.log(`webhook ${event.type} ${delivery.id}${logSuffix} attempt ${delivery.attempt}/${attempts} failed: ${outcome}`);
    const hours = retryAfterHours[delivery.attempt - 1];
    if (hours === undefined) {
      this.opts.log(`webhook ${delivery.id}${logSuffix} given up after ${attempts} attempts`);
      return;
    }
    if (this.closed || !this.target) return;
    this.later({ id: delivery.id, attempt: delivery.attempt + 1 }, Math.max(hours * hourMs, minRetryMs));
  }

  private async pumpOrdered(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const head = this.queue[0]!;
        await this.deliverWithRetries(head.id);
        if (this.queue[0] === head) this.queue.shift();
      }
    } finally {
      this.pumping = false;
      this.opts.onSettled();
    }
  }

  private async deliverWithRetries(id: string): Promise<void> {
    const { attempts, initialDelayMs, maxDelayMs } = this.opts.retry;
    const { logSuffix } = this.opts;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const target = this.target;
      const event = this.opts.getEvent(id);
      if (!target || !event || this.closed) return;
      const outcome = await this.post(target, event);
      if (outcome === 'ok') {
        this.delivered(id);
        return;
      }
      this.opts.log(`webhook ${event.type} ${id}${logSuffix} attempt ${attempt}/${attempts} failed: ${outcome}`);
      if (attempt < attempts) await this.sleep(Math.min(initialDelayMs * 2 ** (attempt - 1), maxDelayMs));
    }
    this.opts.log(`webhook ${id}${logSuffix} given up after ${attempts} attempts`);
    // Never sent twice in this mode: nothing more can land.
    this.undelivered.delete(id);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleeping = undefined;
        resolve();
      };
      this.sleeping = { timer: setTimeout(wake, ms), wake };
    });
  }

  /** The event's JSON as this endpoint gets it: at its own API version, if it has one. */
  private render(target: WebhookTarget, payload: string): string {
    const version = target.apiVersion;
    if (!this.opts.renderAtTargetVersion || version === undefined) return payload;
    const event = JSON.parse(payload) as { api_version?: string | null };
    if (event.api_version === version) return payload;
    event.api_version = version;
    return JSON.stringify(event, null, 2);
  }

  private post(target: WebhookTarget, event: { payload: string }): Promise<'ok' | string> {
    const payload = this.render(target, event.payload);
    const url = new URL(target.url);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      const req = client.request(
        url,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(payload),
            'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'Cache-Control': 'no-cache',
            Accept: '*/*; q=0.5, application/xml',
            'Stripe-Signature': signPayload(payload, target.secret),
          },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          // Like the Dashboard's delivery log: the status, and the start of what the endpoint said.
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (body.length < 200) body += chunk;
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            resolve(status >= 200 && status < 300 ? 'ok' : `HTTP ${status} ${body.slice(0, 200)}`.trim());
          });
          res.on('error', (err) => resolve(err.message));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => resolve(err.message));
      req.end(payload);
    });
  }
}
